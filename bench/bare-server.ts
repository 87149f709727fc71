// The baseline for `npm run bench:api`: a bare Node http server that parses the JSON body and runs
// ONE INSERT per request through a pg.Pool of the app's size. Started by bench/api.bench.ts as a
// child process (node dist/bench/bare-server.js) with BARE_DATABASE_URL, BARE_PORT and BARE_POOL_SIZE.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'pg';

const MAX_BODY_BYTES = 256 * 1024;
const INSERT = 'INSERT INTO bench_bare (id, title, body, created_at) VALUES (gen_random_uuid(), $1, $2, now()) RETURNING id';

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : null));
    req.on('error', reject);
  });
}

function main(): void {
  const databaseUrl = process.env.BARE_DATABASE_URL;
  const port = Number(process.env.BARE_PORT);
  const poolSize = Number(process.env.BARE_POOL_SIZE ?? 20);
  if (!databaseUrl || !Number.isInteger(port) || port <= 0) {
    console.error('bare-server: set BARE_DATABASE_URL and BARE_PORT');
    process.exit(2);
  }
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 10_000 });
  pool.on('error', (error) => console.error(`bare-server: idle client error: ${error.message}`));

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      pool.query('SELECT 1').then(
        () => answer(res, 200, { status: 'ok' }),
        (error: Error) => answer(res, 503, { status: 'down', message: error.message }),
      );
      return;
    }
    if (req.method !== 'POST' || req.url !== '/api/v1/requests') {
      answer(res, 404, { error: 'not_found' });
      return;
    }
    readBody(req)
      .then(async (text) => {
        if (text === null) return answer(res, 413, { error: 'too_large' });
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return answer(res, 400, { error: 'invalid_json' });
        }
        const title = (parsed as { title?: unknown } | null)?.title;
        if (typeof title !== 'string' || title.length === 0) return answer(res, 400, { error: 'title_required' });
        const result = await pool.query<{ id: string }>(INSERT, [title, text]);
        answer(res, 201, { id: result.rows[0].id });
      })
      .catch((error: Error) => answer(res, 500, { error: 'internal', message: error.message }));
  });
  server.keepAliveTimeout = 65_000;

  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    pool.end().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  server.listen(port, '127.0.0.1', () => console.log(`bare-server listening on http://127.0.0.1:${port}`));
}

main();
