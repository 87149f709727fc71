// POST /api/v1/requests through Handoff against a bare Node http + pg server doing one INSERT per
// request, both driven by autocannon with the same settings, on one fresh database: both servers run
// side by side, each is warmed up, then measured in alternating slices (A B B A …), so that the two
// meet the same machine. Targets: Handoff reaches at least half the bare throughput, p99 <= 80 ms, no non-2xx.
//
// Environment (all optional):
//   BENCH_SECONDS              measured seconds per server (default 10)
//   BENCH_WARMUP_SECONDS       warm-up seconds per server before measuring (default 3)
//   BENCH_DATABASE_SERVER_URL  a loopback PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_REDIS_URL            Redis the app checks at start (default redis://127.0.0.1:6379)
//   BENCH_CPU_PROFILE          a file path: CPU-profile the Handoff child during the measured run
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { runPendingMigrations } from '../src/database/migrate';
import { DEMO_PASSWORD, seedFlowerShop } from '../src/demo/flower-shop';
import { PasswordHasher } from '../src/identity/password-hasher';
import { deleteKeysUnder } from '../src/operations/redis-client';
import {
  ChildServer,
  CpuMeter,
  freeLoopbackPort,
  integer,
  LOOPBACK,
  ms,
  runAutocannon,
  table,
  ThrowAwayDatabase,
  writeProfileHook,
  type AutocannonResult,
} from './bench-support';

const COMMAND = 'npm run bench:api   (= npm run build && node dist/bench/api.bench.js)';
const CONNECTIONS = 32;
const POOL_SIZE = 20; // the app's pool (dataSourceOptions default) and the bare server's
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 80;
const READY_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_S = 10;
/** The measured seconds of each server, in this many alternating autocannon runs. */
const SLICES = 5;
const PATH = '/api/v1/requests';
const CLERK_EMAIL = 'clara.clerk@flowers.example';
const JWT_SECRET = 'bench-only-secret-0123456789abcdef0123456789abcdef';
const UUID = /"id":"([0-9a-f-]{36})"/;

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 600) throw new Error(`${name} must be a number of seconds in (0, 600]; got "${raw}"`);
  return value;
}

interface CpuPerRequest {
  server: number | null;
  postgres: number | null;
  loadGenerator: number;
}

interface Measured {
  label: string;
  result: AutocannonResult;
  /** CPU milliseconds per answered request during the measured run. */
  cpu: CpuPerRequest;
  /** Ids from every 2xx answer, warm-up and measured run together. */
  acceptedIds: Set<string>;
  /** 2xx answers autocannon counted, warm-up and measured run together. */
  accepted2xx: number;
  /** Requests sent whose answers autocannon dropped when its time ran out (may still have been stored). */
  unanswered: number;
}

/** The server process and the PostgreSQL backends serving the bench database, for CPU accounting. */
interface Watched {
  serverPid: number | undefined;
  database: ThrowAwayDatabase;
}

async function backendPids(database: ThrowAwayDatabase): Promise<number[]> {
  const rows = await database.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database.name],
  );
  return rows.map((r) => r.pid);
}

/** Per slice of the measured run: what autocannon saw and the CPU the server and PostgreSQL used. */
interface Slice {
  result: AutocannonResult;
  serverMs: number | null;
  postgresMs: number | null;
  ownMs: number;
}

/**
 * One server under autocannon, with the same settings for every server: warm-ups and measured slices
 * are separate autocannon runs, so two servers can be measured in alternating slices and meet the
 * same machine. Ids from every 2xx answer are kept, for the check that nothing accepted is lost.
 */
class Driven {
  private readonly acceptedIds = new Set<string>();
  private readonly slices: Slice[] = [];
  private accepted2xx = 0;
  private unanswered = 0;

  constructor(
    readonly label: string,
    private readonly baseUrl: string,
    private readonly headers: Record<string, string>,
    private readonly body: string,
    private readonly watched: Watched,
  ) {}

  /** A run whose figures are not used (warm-up, or under the profiler); its answers still count for the storage check. */
  async unmeasured(seconds: number): Promise<AutocannonResult> {
    const result = await runAutocannon(this.options(seconds));
    this.count(result);
    return result;
  }

  async slice(seconds: number): Promise<Slice> {
    const serverPids = this.watched.serverPid ? [this.watched.serverPid] : [];
    const serverCpu = new CpuMeter(serverPids);
    const postgresCpu = new CpuMeter(await backendPids(this.watched.database));
    const ownCpu = process.cpuUsage();
    const result = await runAutocannon(this.options(seconds));
    const ownUsed = process.cpuUsage(ownCpu);
    const slice = {
      result,
      serverMs: serverCpu.usedMs(serverPids),
      postgresMs: postgresCpu.usedMs(await backendPids(this.watched.database)),
      ownMs: (ownUsed.user + ownUsed.system) / 1000,
    };
    this.count(result);
    this.slices.push(slice);
    return slice;
  }

  /** The slices as one run: requests/s over their summed time, p50 the median slice's, p99 the worst slice's. */
  measured(): Measured {
    const results = this.slices.map((s) => s.result);
    const sum = (pick: (r: AutocannonResult) => number) => results.reduce((total, r) => total + pick(r), 0);
    const answered = Math.max(1, sum((r) => r.requests.total));
    const cpuSum = (pick: (s: Slice) => number | null) =>
      this.slices.some((s) => pick(s) === null) ? null : this.slices.reduce((total, s) => total + pick(s)!, 0) / answered;
    const p50s = results.map((r) => r.latency.p50).sort((a, b) => a - b);
    const merged: AutocannonResult = {
      ...results[0],
      latency: { ...results[0].latency, p50: p50s[Math.floor(p50s.length / 2)], p99: Math.max(...results.map((r) => r.latency.p99)) },
      requests: { ...results[0].requests, average: sum((r) => r.requests.total) / sum((r) => r.duration), total: sum((r) => r.requests.total), sent: sum((r) => r.requests.sent) },
      duration: sum((r) => r.duration),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      non2xx: sum((r) => r.non2xx),
      '2xx': sum((r) => r['2xx']),
    };
    return {
      label: this.label,
      result: merged,
      cpu: { server: cpuSum((s) => s.serverMs), postgres: cpuSum((s) => s.postgresMs), loadGenerator: this.slices.reduce((t, s) => t + s.ownMs, 0) / answered },
      acceptedIds: this.acceptedIds,
      accepted2xx: this.accepted2xx,
      unanswered: this.unanswered,
    };
  }

  private count(result: AutocannonResult): void {
    this.accepted2xx += result['2xx'];
    // Autocannon drops the answers still in flight when its time runs out; the server may have stored those.
    this.unanswered += result.requests.sent - result.requests.total;
  }

  private options(duration: number) {
    const onResponse = (status: number, text: string | Buffer) => {
      if (status < 200 || status >= 300) return;
      const match = UUID.exec(typeof text === 'string' ? text : text.toString('utf8'));
      if (match) this.acceptedIds.add(match[1]);
    };
    return {
      url: `${this.baseUrl}${PATH}`,
      connections: CONNECTIONS,
      pipelining: 1,
      timeout: REQUEST_TIMEOUT_S,
      duration,
      requests: [{ method: 'POST', path: PATH, headers: this.headers, body: this.body, onResponse }],
    };
  }
}

async function login(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: CLERK_EMAIL, password: DEMO_PASSWORD }),
  });
  const answer = (await response.json()) as { accessToken?: string };
  if (response.status !== 200 || !answer.accessToken) {
    throw new Error(`login as ${CLERK_EMAIL} answered ${response.status}: ${JSON.stringify(answer)}`);
  }
  return answer.accessToken;
}

async function main(): Promise<void> {
  console.log(`command: ${COMMAND}`);
  const seconds = positiveNumber('BENCH_SECONDS', 10);
  const warmup = positiveNumber('BENCH_WARMUP_SECONDS', 3);
  const serverUrl = process.env.BENCH_DATABASE_SERVER_URL || `postgres://postgres@${LOOPBACK}:5432/postgres`;
  const redisUrl = process.env.BENCH_REDIS_URL || `redis://${LOOPBACK}:6379`;
  const profileFile = process.env.BENCH_CPU_PROFILE ? resolve(process.env.BENCH_CPU_PROFILE) : null;
  const distDir = resolve(__dirname, '..');
  console.log(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${new Date().toISOString()}\n` +
      `autocannon: ${CONNECTIONS} connections, pipelining 1, warm-up ${warmup} s + measured ${seconds} s per server ` +
      `in ${SLICES} alternating slices, POST ${PATH}; pools of ${POOL_SIZE} connections`,
  );

  const database = new ThrowAwayDatabase(serverUrl, 'handoff_bench_api');
  // Every create leaves a timer in Redis: under a prefix of the run's own, deleted with the database.
  const queuePrefix = `bench-api-${database.name.slice(-8)}`;
  const scratch = mkdtempSync(join(tmpdir(), 'handoff-bench-api-'));
  const children: ChildServer[] = [];
  const interrupted = () => {
    for (const child of children) child.signal('SIGKILL');
    Promise.allSettled([database.drop(), deleteKeysUnder(redisUrl, queuePrefix)]).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    await database.create();
    console.log(`database ${database.name}, queue prefix ${queuePrefix} (created for this run, removed at the end)`);
    await runPendingMigrations(database.url);
    const seeding = new DataSource(dataSourceOptions(database.url, 2));
    await seeding.initialize();
    const shop = await seedFlowerShop(seeding, await new PasswordHasher().hash(DEMO_PASSWORD)).finally(() => seeding.destroy());
    await database.query('CREATE TABLE bench_bare (id uuid PRIMARY KEY, title text NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL)');
    const body = JSON.stringify({ serviceId: shop.services.bouquet.id, title: 'Bench bouquet', priority: 'normal' });
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), TZ: process.env.TZ ?? 'UTC' };

    // ---- Handoff, as in production: its own process, migrations checked at start, warn-level logs.
    const appPort = await freeLoopbackPort();
    const appUrl = `http://${LOOPBACK}:${appPort}`;
    const app = new ChildServer(
      'Handoff',
      join(distDir, 'src', 'main.js'),
      {
        ...baseEnv,
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl,
        PORT: String(appPort),
        PUBLIC_URL: appUrl,
        ROLE: 'api',
        QUEUE_PREFIX: queuePrefix,
        NODE_ENV: 'production',
        JWT_SECRET,
        LOG_LEVEL: 'warn',
        MIGRATIONS_RUN: 'true',
        ...(profileFile ? { BENCH_PROFILE_FILE: profileFile } : {}),
      },
      profileFile ? ['--require', writeProfileHook(scratch)] : [],
      scratch,
      Boolean(profileFile),
    );
    children.push(app);
    await app.waitUntilReady(`${appUrl}/health`, READY_TIMEOUT_MS);
    const token = await login(appUrl);
    const appHeaders = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

    // ---- The bare server: same database, same pool size, same autocannon settings; up beside Handoff.
    const barePort = await freeLoopbackPort();
    const bareUrl = `http://${LOOPBACK}:${barePort}`;
    const bareServer = new ChildServer(
      'bare server',
      join(distDir, 'bench', 'bare-server.js'),
      {
        ...baseEnv,
        BARE_DATABASE_URL: database.url,
        BARE_PORT: String(barePort),
        BARE_POOL_SIZE: String(POOL_SIZE),
      },
      [],
      scratch,
    );
    children.push(bareServer);
    await bareServer.waitUntilReady(`${bareUrl}/health`, READY_TIMEOUT_MS);

    const handoffDriven = new Driven('Handoff', appUrl, appHeaders, body, { serverPid: app.pid, database });
    const bareDriven = new Driven('bare http + pg', bareUrl, { 'content-type': 'application/json' }, body, { serverPid: bareServer.pid, database });
    // ---- Warm-ups, then the measured seconds in alternating slices (A B B A …), so that both servers
    // meet the same machine: on this VM its speed moves by half between runs a minute apart.
    const sliceSeconds = seconds / SLICES;
    const perSlice: { handoff: number; bare: number }[] = [];
    try {
      for (const driven of [handoffDriven, bareDriven]) {
        console.log(`  ${driven.label}: warm-up ${warmup} s ...`);
        await driven.unmeasured(warmup);
      }
      console.log(`  measuring ${SLICES} slices of ${sliceSeconds} s per server, alternating ...`);
      for (let i = 0; i < SLICES; i++) {
        const order = i % 2 === 0 ? [handoffDriven, bareDriven] : [bareDriven, handoffDriven];
        const rates = new Map<Driven, number>();
        for (const driven of order) {
          const { result } = await driven.slice(sliceSeconds);
          rates.set(driven, result.requests.total / result.duration);
        }
        perSlice.push({ handoff: rates.get(handoffDriven)!, bare: rates.get(bareDriven)! });
      }
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${app.tail()}`, { cause: error });
    }
    let profileOutcome = '';
    if (profileFile) {
      // Repeat Handoff's run under the profiler, so the figures above stay unprofiled.
      profileOutcome = await app.ask('profile-start', ['profile-started']);
      console.log(`  Handoff: measuring again under the CPU profiler (figures not used; ${profileOutcome}) ...`);
      await handoffDriven.unmeasured(1);
      const profiled = await handoffDriven.unmeasured(seconds);
      profileOutcome = await app.ask('profile-stop', ['profile-written']);
      console.log(`  Handoff (profiled): ${integer(profiled.requests.average)} requests/s, p99 ${ms(profiled.latency.p99)}`);
    }
    await app.stop();
    await bareServer.stop();
    // Figures from the measured slices only; the storage check counts every run's answers (the profiled one too).
    const handoff = handoffDriven.measured();
    const bare = bareDriven.measured();

    // ---- Nothing accepted is lost: every 2xx answer's id is a stored row.
    const rowsIn = async (tableName: string) =>
      (await database.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${tableName}`))[0].count;
    const missing = async (tableName: string, ids: Set<string>) =>
      (
        await database.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM unnest($1::uuid[]) AS given(id) WHERE NOT EXISTS (SELECT 1 FROM ${tableName} t WHERE t.id = given.id)`,
          [[...ids]],
        )
      )[0].count;
    const storage = await Promise.all(
      [
        { m: handoff, tableName: 'requests' },
        { m: bare, tableName: 'bench_bare' },
      ].map(async ({ m, tableName }) => {
        const rows = await rowsIn(tableName);
        const lost = await missing(tableName, m.acceptedIds);
        // Autocannon drops the answers still in flight when its time runs out; the server may have stored those.
        const ok = lost === 0 && rows >= m.accepted2xx && rows <= m.accepted2xx + m.unanswered;
        return { m, tableName, rows, lost, ok };
      }),
    );

    // ---- Report.
    const ratio = handoff.result.requests.average / bare.result.requests.average;
    const failures = (r: AutocannonResult) => r.non2xx + r.errors + r.timeouts;
    const row = (m: Measured) => [
      m.label,
      integer(m.result.requests.average),
      ms(m.result.latency.p50),
      ms(m.result.latency.p99),
      integer(m.result.non2xx),
      integer(m.result.errors + m.result.timeouts),
      integer(m.result.requests.total),
    ];
    console.log('');
    console.log(table(['server', 'requests/s', 'p50', 'p99', 'non-2xx', 'errors', 'answered'], [row(handoff), row(bare)]));
    console.log('(requests/s over the summed slices; p50 the median slice\'s, p99 the worst slice\'s: autocannon\'s percentiles do not merge)');
    console.log('');
    console.log(
      table(
        ['slice', 'Handoff requests/s', 'bare requests/s', 'ratio'],
        perSlice.map((r, i) => [`${i + 1} (${i % 2 === 0 ? 'Handoff first' : 'bare first'})`, integer(r.handoff), integer(r.bare), (r.handoff / r.bare).toFixed(2)]),
      ),
    );
    console.log('');
    const cpuMs = (n: number | null) => (n === null ? 'n/a' : `${n.toFixed(2)} ms`);
    const cpuRow = (m: Measured) => [m.label, cpuMs(m.cpu.server), cpuMs(m.cpu.postgres), cpuMs(m.cpu.loadGenerator)];
    console.log(table(['CPU per answered request', 'server process', 'PostgreSQL backends', 'autocannon'], [cpuRow(handoff), cpuRow(bare)]));
    console.log('');
    const verdicts: Array<[string, string, boolean]> = [
      [`throughput handoff/bare >= ${TARGET_RATIO}`, ratio.toFixed(2), ratio >= TARGET_RATIO],
      [`Handoff p99 <= ${TARGET_P99_MS} ms`, ms(handoff.result.latency.p99), handoff.result.latency.p99 <= TARGET_P99_MS],
      ['Handoff errors (non-2xx + socket errors + timeouts) = 0', integer(failures(handoff.result)), failures(handoff.result) === 0],
    ];
    console.log(table(['target', 'measured', 'verdict'], verdicts.map(([name, value, ok]) => [name, value, ok ? 'PASS' : 'FAIL'])));
    console.log('');
    console.log(
      table(
        ['stored rows (warm-up + measured)', '2xx counted', 'rows in table', '2xx ids missing', 'in flight at stop', 'check'],
        storage.map(({ m, tableName, rows, lost, ok }) => [
          `${m.label} (${tableName})`,
          integer(m.accepted2xx),
          integer(rows),
          integer(lost),
          integer(m.unanswered),
          ok ? 'OK' : 'LOST',
        ]),
      ),
    );
    console.log(
      '(every id from a 2xx answer is looked up in the table; rows beyond the 2xx count are requests still in flight\n' +
        ' when autocannon stopped, whose answers it dropped: OK needs 2xx <= rows <= 2xx + in flight, and none missing)',
    );
    if (profileFile) console.log(`\nCPU profile of the Handoff child (${profileOutcome}): ${profileFile}`);
    const allPass = verdicts.every(([, , ok]) => ok) && storage.every(({ ok }) => ok);
    console.log(`\noverall: ${allPass ? 'PASS' : 'FAIL'}`);
    if (!allPass) process.exitCode = 1;
  } finally {
    for (const child of children) await child.stop();
    await database.drop().catch((error: Error) => console.error(`could not drop ${database.name}: ${error.message}`));
    await deleteKeysUnder(redisUrl, queuePrefix).catch((error: Error) => console.error(`could not delete the Redis keys under ${queuePrefix}: ${error.message}`));
    rmSync(scratch, { recursive: true, force: true });
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

main().catch((error: Error) => {
  console.error(`bench:api failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
