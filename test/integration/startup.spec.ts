import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensureDatabaseExists } from '../../src/database/ensure-database';
import { deleteKeysUnder } from '../../src/operations/redis-client';
import { TEST_SERVER_URL } from '../support/database';

// Runs the built service (npm test builds it first) the way an operator would.
const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

function dbUrl(name: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

function run(env: Record<string, string>, timeoutMs = 20000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const oneLine = (text: string) => text.trim().split('\n');

describe('start-up: one clear line for every problem, never a stack trace', () => {
  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['ROLE', { ROLE: 'everything' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://nope' }],
    ['RECONCILE_INTERVAL_S', { RECONCILE_INTERVAL_S: '-5' }],
    ['MIGRATIONS_RUN', { MIGRATIONS_RUN: 'sometimes' }],
    ['JWT_SECRET', { NODE_ENV: 'production' }],
    ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'boss@example.com' }],
  ])('a bad %s stops the process naming it', async (variable, env) => {
    const result = await run(env as Record<string, string>);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(variable);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unreachable PostgreSQL is named with its address and how to start it', async () => {
    const port = await freePort();
    const result = await run({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/handoff` });
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(`PostgreSQL is not reachable at 127.0.0.1:${port}`);
    expect(result.stderr).toContain('pg_ctlcluster');
  });

  it('an unreachable Redis is named with its address and how to start it', async () => {
    const port = await freePort();
    const name = `handoff_t_redisdown_${randomBytes(4).toString('hex')}`;
    const result = await run({ DATABASE_URL: dbUrl(name), REDIS_URL: `redis://127.0.0.1:${port}` });
    await dropDatabase(name);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(`Redis is not reachable at 127.0.0.1:${port}`);
    expect(result.stderr).toContain('redis-server');
  });
});

async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.end();
}

describe('processes starting together on a server without their database', () => {
  const name = `handoff_t_race_${randomBytes(4).toString('hex')}`;
  afterAll(() => dropDatabase(name));

  it('all of them go on: the one that loses the CREATE DATABASE race finds it made', async () => {
    // PostgreSQL answers the loser with 42P04, or with a unique violation (23505) when both reach its catalog at once.
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => ensureDatabaseExists(dbUrl(name))));
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    const client = new Client({ connectionString: dbUrl(name) });
    await client.connect();
    await client.end();
  });
});

describe('start:prod on an empty server', () => {
  const name = `handoff_t_prod_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await dropDatabase(name);
    await deleteKeysUnder(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name);
  });

  it('creates the database, applies migrations, creates the first admin once, and serves', async () => {
    const port = await freePort();
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl(name),
      PORT: String(port),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_EMAIL: 'Boss@Example.com',
      ADMIN_PASSWORD: 'first-admin-password',
      LOG_LEVEL: 'warn',
      // Its queues' keys under a prefix of its own, deleted afterwards (the default one is a developer's).
      QUEUE_PREFIX: name,
    };
    for (let start = 0; start < 2; start++) {
      const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      try {
        const base = `http://127.0.0.1:${port}`;
        let health: Response | undefined;
        for (let i = 0; i < 100 && !health; i++) {
          health = await fetch(`${base}/health`).catch(() => undefined);
          if (!health) await new Promise((r) => setTimeout(r, 100));
        }
        expect(health?.status).toBe(200);
        const login = await fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'boss@example.com', password: 'first-admin-password' }),
        });
        expect(login.status).toBe(200);
        expect(((await login.json()) as { user: { role: string } }).user.role).toBe('admin');
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      expect(output).not.toContain('first-admin-password');
    }
    const client = new Client({ connectionString: dbUrl(name) });
    await client.connect();
    const admins = await client.query(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
    const departments = await client.query('SELECT count(*)::int AS n FROM departments');
    await client.end();
    expect(admins.rows[0].n).toBe(1);
    expect(departments.rows[0].n).toBe(0); // start:prod never seeds the demo
  });
});
