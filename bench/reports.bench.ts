// The SLA report on a million requests. Bulk-loads them with COPY (triggers on, so the roll-up is
// built by the same path as in production), then times GET /api/v1/reports/sla over HTTP for a
// 30-day window by provider and by pair, and in the same run a plain GROUP BY over the raw
// requests table with index scans switched off (bench/reports-naive.ts). Checks the two agree,
// and that a request resolved through the API corrects its day before the next read.
// Targets: p50 < 50 ms, at least 10x the naive query. Exits 1 when one is missed.
//
// Environment (all optional):
//   BENCH_REQUESTS             requests to load (default 1000000)
//   BENCH_RUNS                 timed reads per case after 5 warm-up reads (default 40)
//   BENCH_NAIVE_RUNS           timed naive queries per grouping after one warm-up (default 5)
//   BENCH_TIMEOUT_S            the whole run is abandoned (and cleaned up) after this (default 1800)
//   BENCH_DATABASE_SERVER_URL  a loopback PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_REDIS_URL            a loopback Redis the app needs at start (default redis://127.0.0.1:6379)
//   BENCH_KEEP_DATABASE=1      for investigating: keep the loaded database (its name is printed) instead of dropping it
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { INestApplication } from '@nestjs/common';
import { deleteKeysUnder } from '../src/operations/redis-client';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createHttpApp } from '../src/bootstrap';
import { AppConfig } from '../src/common/app-config';
import { runPendingMigrations } from '../src/database/migrate';
import { PasswordHasher } from '../src/identity/password-hasher';
import { integer, LOOPBACK, ms, table, ThrowAwayDatabase } from './bench-support';
import { naiveKey, naiveSlaReport, type NaiveDimension, type NaiveRow } from './reports-naive';

const COMMAND = 'npm run bench:reports   (= npm run build && node dist/bench/reports.bench.js)';
const DAY_MS = 86_400_000;
const DEPARTMENTS = 20;
const SERVICES_PER_DEPARTMENT = 3;
const COPY_BATCH = 100_000;
const WARMUP_RUNS = 5;
const TARGET_P50_MS = 50;
const TARGET_RATIO = 10;
const PASSWORD = 'bench-reports-password';
const JWT_SECRET = 'bench-only-secret-0123456789abcdef0123456789abcdef';
// Per service kind: response and resolution targets in (always-open) business seconds.
const TARGETS = [
  { response: 3_600, resolution: 28_800, responseIso: 'PT1H', resolutionIso: 'PT8H' },
  { response: 7_200, resolution: 86_400, responseIso: 'PT2H', resolutionIso: 'P1D' },
  { response: 14_400, resolution: 259_200, responseIso: 'PT4H', resolutionIso: 'P3D' },
];

function positiveInteger(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > max) throw new Error(`${name} must be a whole number in [1, ${max}]; got "${raw}"`);
  return value;
}

/** mulberry32: the same million requests on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Service {
  id: string;
  departmentId: string;
  agreementId: string;
  kind: number;
  terms: string;
}

interface Organisation {
  departments: string[];
  requesters: string[];
  services: Service[];
}

async function seedOrganisation(client: Client): Promise<Organisation> {
  const hash = await new PasswordHasher().hash(PASSWORD);
  const departments: string[] = [];
  const requesters: string[] = [];
  const services: Service[] = [];
  for (let d = 1; d <= DEPARTMENTS; d++) {
    const code = `D${String(d).padStart(2, '0')}`;
    const [{ id }] = (await client.query(`INSERT INTO departments (name, code, timezone) VALUES ($1, $2, 'Europe/Amsterdam') RETURNING id`, [`Department ${code}`, code])).rows;
    departments.push(id);
    const [user] = (
      await client.query(`INSERT INTO users (email, name, password_hash, department_id, role) VALUES ($1, $2, $3, $4, 'employee') RETURNING id`, [
        `staff.${code.toLowerCase()}@bench.example`,
        `Staff of ${code}`,
        hash,
        id,
      ])
    ).rows;
    requesters.push(user.id);
    for (let kind = 0; kind < SERVICES_PER_DEPARTMENT; kind++) {
      const [service] = (await client.query(`INSERT INTO services (department_id, code, name) VALUES ($1, $2, $3) RETURNING id`, [id, `S${kind + 1}`, `${code} service ${kind + 1}`])).rows;
      const target = TARGETS[kind];
      const [agreement] = (
        await client.query(
          `INSERT INTO agreements (service_id, response_target, response_target_seconds, resolution_target, resolution_target_seconds) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
          [service.id, target.responseIso, target.response, target.resolutionIso, target.resolution],
        )
      ).rows;
      const terms = {
        agreementId: agreement.id,
        agreementVersion: 1,
        responseTarget: target.responseIso,
        responseTargetSeconds: target.response,
        resolutionTarget: target.resolutionIso,
        resolutionTargetSeconds: target.resolution,
        calendarId: null,
        timezone: 'Europe/Amsterdam',
        warnAtPercent: 75,
        pauseWhileBlocked: true,
        escalations: [{ atPercent: 100, notify: 'provider_head' }, { atPercent: 150, notify: 'ops' }],
      };
      await client.query(`INSERT INTO agreement_versions (agreement_id, version, terms) VALUES ($1, 1, $2)`, [agreement.id, JSON.stringify(terms)]);
      services.push({ id: service.id, departmentId: id, agreementId: agreement.id, kind, terms: JSON.stringify(terms) });
    }
  }
  for (const role of ['ops', 'admin']) {
    await client.query(`INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)`, [`${role}@bench.example`, `Bench ${role}`, hash, role]);
  }
  return { departments, requesters, services };
}

const COPY_COLUMNS = [
  'service_id', 'provider_department_id', 'customer_department_id', 'requester_id', 'title', 'description', 'priority', 'status',
  'agreement_id', 'agreement_version', 'terms', 'created_at', 'respond_by', 'resolve_by', 'responded_at', 'resolved_at', 'closed_at',
  'cancelled_at', 'paused_since', 'paused_seconds', 'respond_business_seconds', 'resolve_business_seconds', 'breached_response',
  'breached_resolution', 'slack_seconds', 'at_risk',
];

const iso = (ms: number | null) => (ms === null ? '\\N' : new Date(ms).toISOString());
const num = (n: number | null) => (n === null ? '\\N' : String(n));
/** exp of a normal variate: most work is quick, a long tail is late. */
const logNormal = (next: () => number, mu: number, sigma: number) => Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));

/**
 * A year of requests in creation order, as COPY text lines. Clocks count around the clock
 * (business seconds = elapsed seconds), deadlines and flags are consistent with the stored
 * instants, and what is still open at `now` is open: responses, resolutions, pauses, cancellations.
 */
function* requestLines(organisation: Organisation, count: number, now: number, first: number, last: number): Generator<string> {
  const next = random(20261201);
  const span = now - DAY_MS * 365;
  const description = 'Please see the attached order notes; the customer asked for it to be ready before the afternoon run.';
  for (let i = first; i < last; i++) {
    const created = Math.floor(span + ((i + next()) / count) * (now - span) - 1) - ((i * 7919) % 1000);
    const service = organisation.services[Math.floor(next() * organisation.services.length)];
    const provider = organisation.departments.indexOf(service.departmentId);
    const customer = (provider + 1 + Math.floor(next() * (DEPARTMENTS - 1))) % DEPARTMENTS;
    const target = TARGETS[service.kind];
    const respondSeconds = Math.max(1, Math.round(target.response * logNormal(next, -0.8, 0.7)));
    const workSeconds = Math.max(respondSeconds, Math.round(target.resolution * logNormal(next, -0.6, 0.6)));
    const pausedSeconds = next() < 0.15 ? Math.round(next() * target.resolution * 0.5) : 0;
    const respondBy = created + target.response * 1000;
    const resolveBy = created + (target.resolution + pausedSeconds) * 1000;
    const cancelled = next() < 0.02 ? created + Math.round(next() * 7_200_000) : null;
    let respondedAt: number | null = created + respondSeconds * 1000;
    let resolvedAt: number | null = created + (workSeconds + pausedSeconds) * 1000;
    let status: string;
    let pausedSince: number | null = null;
    if (cancelled !== null && cancelled <= now) {
      if (respondedAt > cancelled) respondedAt = null;
      resolvedAt = null;
      status = 'cancelled';
    } else {
      if (respondedAt > now) respondedAt = null;
      if (resolvedAt > now) resolvedAt = null;
      if (resolvedAt !== null) status = resolvedAt + 2 * DAY_MS <= now ? 'closed' : 'resolved';
      else if (respondedAt === null) status = 'open';
      else if (next() < 0.1) {
        status = 'waiting_on_customer';
        pausedSince = Math.min(now, respondedAt + Math.round(next() * 3_600_000));
      } else status = 'in_progress';
    }
    const open = status !== 'resolved' && status !== 'closed' && status !== 'cancelled';
    const clockEnd = cancelled ?? now;
    // As the escalation worker leaves them: flags set at each deadline that passed without the clock stopping.
    const breachedResponse = respondedAt !== null ? respondedAt > respondBy : respondBy < clockEnd;
    const breachedResolution = resolvedAt !== null ? resolvedAt > resolveBy : pausedSince === null && cancelled === null && resolveBy < now;
    const atRisk = open && next() < 0.05;
    const slack = open ? (atRisk ? -Math.round(next() * 7200) - 1 : Math.round(next() * 86_400)) : null;
    yield [
      service.id,
      service.departmentId,
      organisation.departments[customer],
      organisation.requesters[customer],
      `Request ${i} for ${service.departmentId.slice(0, 8)}`,
      i % 3 === 0 ? description : '\\N',
      next() < 0.8 ? 'normal' : next() < 0.75 ? 'high' : 'urgent',
      status,
      service.agreementId,
      '1',
      service.terms,
      iso(created),
      iso(respondBy),
      iso(resolveBy),
      iso(respondedAt),
      iso(resolvedAt),
      iso(status === 'closed' ? resolvedAt! + 2 * DAY_MS : null),
      iso(status === 'cancelled' ? cancelled : null),
      iso(pausedSince),
      num(resolvedAt !== null ? pausedSeconds : 0),
      num(respondedAt !== null ? respondSeconds : null),
      num(resolvedAt !== null ? workSeconds : null),
      breachedResponse ? 't' : 'f',
      breachedResolution ? 't' : 'f',
      num(slack),
      atRisk ? 't' : 'f',
    ].join('\t') + '\n';
  }
}

async function bulkLoad(url: string, organisation: Organisation, count: number, now: number): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  try {
    for (let first = 0; first < count; first += COPY_BATCH) {
      const last = Math.min(count, first + COPY_BATCH);
      const lines = requestLines(organisation, count, now, first, last);
      const source = Readable.from(
        (function* () {
          let chunk = '';
          for (const line of lines) {
            chunk += line;
            if (chunk.length > 1 << 20) {
              yield chunk;
              chunk = '';
            }
          }
          if (chunk) yield chunk;
        })(),
      );
      await pipeline(source, client.query(copyFrom(`COPY requests (${COPY_COLUMNS.join(', ')}) FROM STDIN`)));
      process.stdout.write(`  loaded ${integer(last)} requests (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    }
    await client.query('VACUUM ANALYZE requests');
    await client.query('VACUUM ANALYZE report_daily');
    await client.query('VACUUM ANALYZE report_open_requests');
  } finally {
    await client.end();
  }
  return performance.now() - started;
}

interface Timing {
  p50: number;
  p90: number;
  max: number;
}

function summarise(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] };
}

interface ReportRow {
  group: { id: string };
  [figure: string]: unknown;
}

interface Report {
  asOf: string;
  rows: ReportRow[];
}

async function getJson<T>(url: string, token: string): Promise<{ body: T; ms: number }> {
  const started = performance.now();
  const answer = await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  const body = (await answer.json()) as T;
  const elapsed = performance.now() - started;
  if (answer.status !== 200) throw new Error(`${url} answered ${answer.status}: ${JSON.stringify(body)}`);
  return { body, ms: elapsed };
}

/** The report's figures keyed like the naive rows (compliance is a ratio of two counts both carry). */
function comparable(rows: ReportRow[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    rows.map(({ group, provider: _p, customer: _c, responseCompliance: _r, resolutionCompliance: _s, ...figures }) => [group.id, figures]),
  );
}

function naiveComparable(rows: NaiveRow[]): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    rows.map((row) => {
      const { groupId: _groupId, partnerId: _partnerId, ...figures } = row;
      return [naiveKey(row), figures];
    }),
  );
}

const sameFigures = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  return value;
}


async function main(): Promise<number> {
  const count = positiveInteger('BENCH_REQUESTS', 1_000_000, 5_000_000);
  const runs = positiveInteger('BENCH_RUNS', 40, 1000);
  const naiveRuns = positiveInteger('BENCH_NAIVE_RUNS', 5, 100);
  const timeoutS = positiveInteger('BENCH_TIMEOUT_S', 1800, 7200);
  const serverUrl = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(redisUrl).hostname)) throw new Error(`The benchmark only uses a loopback Redis; got ${redisUrl}`);
  const database = new ThrowAwayDatabase(serverUrl, 'handoff_bench_reports');
  const queuePrefix = `handoff-bench-reports-${randomBytes(4).toString('hex')}`;
  let app: INestApplication | null = null;
  const cleanUp = async () => {
    await app?.close().catch(() => undefined);
    app = null;
    if (process.env.BENCH_KEEP_DATABASE === '1') console.log(`kept ${database.url} (BENCH_KEEP_DATABASE=1): drop it by hand`);
    else await database.drop().catch((error: Error) => console.error(`could not drop ${database.name}: ${error.message}`));
    await deleteKeysUnder(redisUrl, queuePrefix).catch(() => undefined);
  };
  const abandon = setTimeout(() => {
    console.error(`\nThe run took longer than BENCH_TIMEOUT_S=${timeoutS}; abandoned and cleaned up.`);
    void cleanUp().finally(() => process.exit(2));
  }, timeoutS * 1000);
  abandon.unref();
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

  try {
    const now = Date.now();
    console.log(`command: ${COMMAND}`);
    console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${new Date(now).toISOString()}`);
    console.log(`database ${database.name} (created for this run, dropped at the end); Redis prefix ${queuePrefix}`);
    await database.create();
    await runPendingMigrations(database.url);
    const seeding = new Client({ connectionString: database.url });
    await seeding.connect();
    const organisation = await seedOrganisation(seeding).finally(() => seeding.end());
    console.log(`bulk-loading ${integer(count)} requests over the year to now, ${DEPARTMENTS} departments, ${organisation.services.length} services, COPY in batches of ${integer(COPY_BATCH)}:`);
    const loadMs = await bulkLoad(database.url, organisation, count, now);
    const sizes = await database.query<{ requests: string; daily: string; daily_rows: number; open_rows: number; open: string }>(
      `SELECT pg_size_pretty(pg_total_relation_size('requests')) AS requests, pg_size_pretty(pg_total_relation_size('report_daily')) AS daily,
         (SELECT count(*)::integer FROM report_daily) AS daily_rows, (SELECT count(*)::integer FROM report_open_requests) AS open_rows,
         pg_size_pretty(pg_total_relation_size('report_open_requests')) AS open`,
    );
    console.log(
      `loaded in ${(loadMs / 1000).toFixed(0)} s (triggers kept the roll-up as they went); requests ${sizes[0].requests}, ` +
        `report_daily ${integer(sizes[0].daily_rows)} rows ${sizes[0].daily}, report_open_requests ${integer(sizes[0].open_rows)} rows ${sizes[0].open}`,
    );

    const config = AppConfig.with({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      NODE_ENV: 'production',
      ROLE: 'api',
      JWT_SECRET,
      MIGRATIONS_RUN: 'false',
      QUEUE_PREFIX: queuePrefix,
    });
    app = await createHttpApp(config, { logLevel: 'warn' });
    await app.listen(0, LOOPBACK);
    const base = `http://${LOOPBACK}:${(app.getHttpServer().address() as AddressInfo).port}`;
    const login = async (email: string) => {
      const answer = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
      return ((await answer.json()) as { accessToken: string }).accessToken;
    };
    const opsToken = await login('ops@bench.example');
    const adminToken = await login('admin@bench.example');

    const midnight = Math.floor(now / DAY_MS) * DAY_MS;
    const aligned = { from: new Date(midnight - 30 * DAY_MS), to: new Date(midnight) };
    const rolling = { from: new Date(now - 30 * DAY_MS), to: new Date(now) };
    const cases: { label: string; groupBy: NaiveDimension; window: { from: Date; to: Date }; targeted: boolean }[] = [
      { label: 'by provider, 30 whole UTC days', groupBy: 'provider', window: aligned, targeted: true },
      { label: 'by pair, 30 whole UTC days', groupBy: 'pair', window: aligned, targeted: true },
      { label: 'by provider, the 30 days to now', groupBy: 'provider', window: rolling, targeted: false },
      { label: 'by pair, the 30 days to now', groupBy: 'pair', window: rolling, targeted: false },
    ];
    const urlOf = (c: (typeof cases)[number]) => `${base}/api/v1/reports/sla?groupBy=${c.groupBy}&from=${c.window.from.toISOString()}&to=${c.window.to.toISOString()}`;

    console.log(`\ntiming GET /api/v1/reports/sla as ops over HTTP on ${LOOPBACK}: ${WARMUP_RUNS} warm-up + ${runs} timed reads per case, one at a time`);
    const fast = new Map<string, { timing: Timing; last: Report }>();
    for (const c of cases) {
      for (let i = 0; i < WARMUP_RUNS; i++) await getJson<Report>(urlOf(c), opsToken);
      const samples: number[] = [];
      let last: Report | null = null;
      for (let i = 0; i < runs; i++) {
        const answer = await getJson<Report>(urlOf(c), opsToken);
        samples.push(answer.ms);
        last = answer.body;
      }
      fast.set(c.label, { timing: summarise(samples), last: last! });
    }

    console.log(`timing the naive GROUP BY (index scans off, no roll-up) in the same run: 1 warm-up + ${naiveRuns} timed per grouping`);
    const naiveClient = new Client({ connectionString: database.url });
    await naiveClient.connect();
    const naive = new Map<NaiveDimension, Timing>();
    let agree = true;
    try {
      await naiveClient.query('SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off');
      const run = async (sql: string, params: unknown[]) => (await naiveClient.query(sql, params)).rows;
      for (const c of cases.filter((x) => x.targeted)) {
        const asOf = new Date(fast.get(c.label)!.last.asOf);
        const rows = await naiveSlaReport(run, c.groupBy, c.window.from, c.window.to, asOf);
        const ours = comparable(fast.get(c.label)!.last.rows);
        const theirs = naiveComparable(rows);
        const differing = [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].filter((key) => !sameFigures(ours[key], theirs[key]));
        if (differing.length) {
          agree = false;
          console.error(`  the report and the naive query disagree ${c.label} on ${differing.length} rows, e.g. ${differing[0]}:`);
          console.error(`    report ${JSON.stringify(sortKeys(ours[differing[0]]))}\n    naive  ${JSON.stringify(sortKeys(theirs[differing[0]]))}`);
        }
        const samples: number[] = [];
        for (let i = 0; i < naiveRuns; i++) {
          const started = performance.now();
          await naiveSlaReport(run, c.groupBy, c.window.from, c.window.to, asOf);
          samples.push(performance.now() - started);
        }
        naive.set(c.groupBy, summarise(samples));
      }
    } finally {
      await naiveClient.end();
    }

    // Freshness: resolve an open request of a day inside the window through the API, read again at once.
    const [open] = await database.query<{ id: string; provider_department_id: string; created_at: Date; version: number }>(
      `SELECT id, provider_department_id, created_at, version FROM requests
       WHERE status IN ('open', 'acknowledged', 'in_progress') AND created_at >= $1 AND created_at < $2
       ORDER BY created_at LIMIT 1`,
      [new Date(aligned.from.getTime() + DAY_MS), new Date(aligned.to.getTime() - DAY_MS)],
    );
    const providerUrl = urlOf(cases[0]);
    const before = (await getJson<Report>(providerUrl, opsToken)).body.rows.find((r) => r.group.id === open.provider_department_id)!;
    const moved = await fetch(`${base}/api/v1/requests/${open.id}/transitions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: 'resolved', version: open.version }),
    });
    if (moved.status !== 200) throw new Error(`resolving ${open.id} answered ${moved.status}: ${await moved.text()}`);
    const resolvedAt = performance.now();
    const afterReport = (await getJson<Report>(providerUrl, opsToken)).body;
    const readAfterMs = performance.now() - resolvedAt;
    const after = afterReport.rows.find((r) => r.group.id === open.provider_department_id)!;
    const check = new Client({ connectionString: database.url });
    await check.connect();
    const truth = await naiveSlaReport(async (sql, params) => (await check.query(sql, params)).rows, 'provider', aligned.from, aligned.to, new Date(afterReport.asOf)).finally(() =>
      check.end(),
    );
    const truthRow = naiveComparable(truth)[open.provider_department_id];
    const fresh = (after.open as number) === (before.open as number) - 1 && sameFigures(comparable([after])[after.group.id], truthRow);

    const rows = cases.map((c) => {
      const f = fast.get(c.label)!.timing;
      const n = c.targeted ? naive.get(c.groupBy)! : null;
      return [
        c.label,
        ms(f.p50),
        ms(f.p90),
        ms(f.max),
        n ? ms(n.p50) : '',
        n ? `${(n.p50 / f.p50).toFixed(0)}x` : '',
        String(fast.get(c.label)!.last.rows.length),
      ];
    });
    console.log('');
    console.log(table(['GET /reports/sla', 'p50', 'p90', 'max', 'naive p50', 'naive / p50', 'rows'], rows));
    const targeted = cases.filter((c) => c.targeted);
    const p50Ok = targeted.every((c) => fast.get(c.label)!.timing.p50 < TARGET_P50_MS);
    const ratioOk = targeted.every((c) => naive.get(c.groupBy)!.p50 / fast.get(c.label)!.timing.p50 >= TARGET_RATIO);
    console.log('');
    console.log(`report agrees with the naive query (counts and percentiles, every row)   ${agree ? 'yes' : 'NO'}`);
    console.log(
      `request ${open.id.slice(0, 8)} (created ${open.created_at.toISOString().slice(0, 10)}) resolved through the API; the next read, ${ms(readAfterMs)} later, ` +
        `has its provider's open ${before.open} -> ${after.open} and equals the naive query   ${fresh ? 'yes' : 'NO'}`,
    );
    console.log(`target p50 < ${TARGET_P50_MS} ms (whole-day windows)                                  ${p50Ok ? 'PASS' : 'FAIL'}`);
    console.log(`target >= ${TARGET_RATIO}x the naive query (same run)                                 ${ratioOk ? 'PASS' : 'FAIL'}`);
    console.log(`target roll-up never stale                                                 ${fresh && agree ? 'PASS' : 'FAIL'}`);
    return p50Ok && ratioOk && fresh && agree ? 0 : 1;
  } finally {
    clearTimeout(abandon);
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
