// Escalation timers under load: 100 000 open requests with a pending BullMQ timer each, then a
// burst of 10 000 deadlines inside 10 seconds, fired by a real worker process (`node
// dist/src/main.js`, ROLE=worker) and mailed to an SMTP sink in this process. Measures lateness
// from each deadline to the moment its mail is accepted by the sink, mails per second, Redis
// memory per pending timer and the worker's RSS; prints beside it what a 5-minute scan would give,
// and the burst second by second. Before the burst the sink takes 3 000 mails of its own, so the
// worker meets a server whose code has run before, as a long-running mail server's has.
//
// Targets: p99 lateness <= 1 s, the burst fully mailed within 20 s of the first deadline,
// <= 1 KB of Redis per open request, worker RSS <= 300 MB. Exit code 1 when one is missed.
//
// Environment (all optional):
//   BENCH_OPEN_REQUESTS        open requests with far-away timers (default 100000)
//   BENCH_BURST                deadlines in the burst (default 10000)
//   BENCH_GIVE_UP_S            stop waiting for the burst's mails this long after its first deadline (default 120)
//   BENCH_DATABASE_SERVER_URL  a loopback PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_REDIS_URL            a loopback Redis (default redis://127.0.0.1:6379)
//   BENCH_KILL_AFTER_S         SIGKILL the worker this many seconds after the first deadline and start
//                              another at once (the takeover: its lateness, nothing lost or doubled)
//   BENCH_WORKER_MAIN          the worker's entry point (default dist/src/main.js), for what-if runs
//                              against a patched copy of dist/ (node_modules must resolve from it)
//   BENCH_PROFILE              a directory: CPU-profile the worker and count its SQL statements and
//                              Redis commands during the burst (figures are then those of a profiled run)
//   BENCH_TIMELINE             a CSV file: each burst deadline's instants (due, recorded, claimed, marked
//                              sent, accepted by the sink), to see the burst's first second in detail
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Agreement, AgreementVersion } from '../src/agreements/agreement.entity';
import type { EscalationLevel } from '../src/agreements/agreement-terms';
import { dataSourceOptions } from '../src/database/data-source-options';
import { runPendingMigrations } from '../src/database/migrate';
import { DEMO_PASSWORD, DEMO_ZONE, seedFlowerShop } from '../src/demo/flower-shop';
import { DeadlineScheduler, type ScheduledDeadline } from '../src/escalation/deadline-scheduler';
import type { EscalationsRepository } from '../src/escalation/escalations.repository';
import { bullConnection } from '../src/escalation/queues.module';
import { QueueName } from '../src/escalation/queues';
import { MAIL_LANES } from '../src/mail/mail-transport';
import { PasswordHasher } from '../src/identity/password-hasher';
import { Calendar } from '../src/org/calendar.entity';
import { ProviderService } from '../src/org/provider-service.entity';
import type { RequestsRepository } from '../src/requests/requests.repository';
import { termsOf } from '../src/requests/requests.service';
import {
  CountingSmtpSink,
  CpuMeter,
  deleteKeysUnder,
  duration,
  integer,
  LOOPBACK,
  mb,
  percentile,
  redisUsedMemory,
  requireLoopback,
  RoundTripProbe,
  RssSampler,
  summariseCpuProfile,
  table,
  ThrowAwayDatabase,
  WorkerChild,
} from './escalation-support';

const COMMAND = 'npm run bench:escalation   (= npm run build && node dist/bench/escalation.bench.js)';
const JWT_SECRET = 'bench-only-secret-0123456789abcdef0123456789abcdef';

const RESPONSE_TARGET_S = 3600; // PT1H
const RESOLUTION_TARGET_S = 8 * 3600; // PT8H
const WARN_AT_PERCENT = 75;
const WARNING_AFTER_MS = ((RESPONSE_TARGET_S * WARN_AT_PERCENT) / 100) * 1000; // response_warning 45 min after the start
const LEVELS: EscalationLevel[] = [
  { atPercent: 100, notify: 'provider_head' },
  { atPercent: 150, notify: 'ladder' },
  { atPercent: 200, notify: 'ops' },
];

const WINDOW_MS = 10_000; // the burst's deadlines fall uniformly inside this window
const LEAD_MS = 15_000; // the window opens this long after the worker is up and idle
const DEFAULT_GIVE_UP_S = 120; // stop waiting for mails this long after the first deadline (BENCH_GIVE_UP_S)
const DUPLICATE_GRACE_MS = 3_000; // keep listening after the last mail, for duplicates
const ADD_CHUNK = 1000;
const SINK_WARM_UP_MAILS = 3000; // sent to the sink before the burst (CountingSmtpSink.warmUp)
const SCAN_PERIOD_MS = 300_000;
const RECONCILE_INTERVAL_S = 30;

const TARGET_P99_MS = 1000;
const TARGET_BURST_DONE_MS = 20_000;
const TARGET_REDIS_BYTES = 1024;
const TARGET_RSS_BYTES = 300 * 1024 * 1024;

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) throw new Error(`${name} must be a whole number in [1, 1000000]; got "${raw}"`);
  return value;
}

interface Template {
  serviceId: string;
  providerId: string;
  customerId: string;
  requesterId: string;
  agreementId: string;
  terms: object;
}

/**
 * Bulk-inserts open requests as RequestsService.create writes them (terms snapshot, respondBy,
 * resolveBy, clock version 1, next deadline = the response warning) plus their 'created' event.
 * `createdMsSql` is a trusted SQL expression of g (1..n) and $8 (a base epoch millisecond).
 */
async function insertRequests(
  db: ThrowAwayDatabase,
  t: Template,
  n: number,
  label: string,
  baseMs: number,
  createdMsSql: string,
): Promise<{ id: string; dueAt: number }[]> {
  const rows = await db.query<{ id: string; next_deadline_at: Date }>(
    `WITH params AS (SELECT 'epoch'::timestamptz AS epoch),
     inserted AS (
       INSERT INTO requests (service_id, provider_department_id, customer_department_id, requester_id, assignee_id, title, description,
                             priority, status, version, agreement_id, agreement_version, terms, created_at, respond_by, resolve_by,
                             clock_version, next_deadline_at, next_deadline_kind, updated_at)
       SELECT $1, $2, $3, $4, NULL, $6::text || ' #' || g, 'Generated by the escalation benchmark: bouquet for order ' || g,
              'normal', 'open', 1, $5, 1, $7::jsonb, c.created, c.created + $10::int * interval '1 second', c.created + $11::int * interval '1 second',
              1, c.created + $12::bigint * interval '1 millisecond', 'response_warning', c.created
       FROM generate_series(1, $9::int) AS g, params,
            LATERAL (SELECT params.epoch + (${createdMsSql}) * interval '1 millisecond' AS created) AS c
       RETURNING id, requester_id, created_at, respond_by, resolve_by, next_deadline_at
     ),
     events AS (
       INSERT INTO request_events (request_id, actor_id, type, at, after)
       SELECT id, requester_id, 'created', created_at,
              jsonb_build_object('status', 'open', 'priority', 'normal',
                                 'respondBy', to_char(respond_by AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                 'resolveBy', to_char(resolve_by AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
       FROM inserted
     )
     SELECT id, next_deadline_at FROM inserted`,
    [t.serviceId, t.providerId, t.customerId, t.requesterId, t.agreementId, label, JSON.stringify(t.terms), baseMs, n, RESPONSE_TARGET_S, RESOLUTION_TARGET_S, WARNING_AFTER_MS],
  );
  return rows.map((r) => ({ id: r.id, dueAt: r.next_deadline_at.getTime() }));
}

/** Adds the timers through DeadlineScheduler.enqueue itself (same job id, payload and options), in chunks. */
async function addTimers(scheduler: DeadlineScheduler, queue: Queue, rows: { id: string; dueAt: number }[], expectDelayed: number): Promise<void> {
  for (let i = 0; i < rows.length; i += ADD_CHUNK) {
    const chunk: ScheduledDeadline[] = rows.slice(i, i + ADD_CHUNK).map((r) => ({ requestId: r.id, clockVersion: 1, kind: 'response_warning', dueAt: r.dueAt }));
    await scheduler.enqueue(chunk);
  }
  // enqueue gives up waiting after 1 s (the add goes on): wait, bounded, until every timer is there.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const delayed = await queue.getDelayedCount();
    if (delayed >= expectDelayed) return;
    if (Date.now() > deadline) throw new Error(`only ${delayed} of ${expectDelayed} timers are in Redis after 60 s`);
    await sleep(100);
  }
}

/** Σ MEMORY USAGE of every key under the prefix (pipelined, bounded); robust to other users of the same Redis. */
async function memoryUnderPrefix(redis: Redis, prefix: string): Promise<{ keys: number; bytes: number; byKind: Map<string, { keys: number; bytes: number }> }> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  const byKind = new Map<string, { keys: number; bytes: number }>();
  const deadline = Date.now() + 120_000;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    if (batch.length) {
      const pipeline = redis.pipeline();
      for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', '0');
      const results = (await pipeline.exec()) ?? [];
      batch.forEach((key, i) => {
        const used = Number(results[i]?.[1] ?? 0);
        const rest = key.slice(prefix.length + 1);
        const kind = /^deadlines:[0-9a-f-]{36}_/.test(rest) ? 'deadlines:<job hash>' : rest;
        const entry = byKind.get(kind) ?? { keys: 0, bytes: 0 };
        entry.keys++;
        entry.bytes += used;
        byKind.set(kind, entry);
        keys++;
        bytes += used;
      });
    }
    if (Date.now() > deadline) throw new Error('gave up measuring MEMORY USAGE after 120 s');
  } while (cursor !== '0');
  return { keys, bytes, byKind };
}

/** Lateness a scanner running every SCAN_PERIOD_MS at `phaseMs` would give a deadline: the time to the next scan. */
const scanLateness = (dueAt: number, phaseMs: number) => (((phaseMs - dueAt) % SCAN_PERIOD_MS) + SCAN_PERIOD_MS) % SCAN_PERIOD_MS;

function stats(values: number[]): { p50: number; p99: number; max: number; n: number; finite: number } {
  const sorted = Float64Array.from(values).sort();
  const finite = values.filter((v) => Number.isFinite(v)).length;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : NaN, n: sorted.length, finite };
}

/** The commit measured, and whether src/ differs from it (read-only git, no index refresh). */
function revision(repo: string): string {
  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    const changed = git('diff', '--name-only', 'HEAD', '--', 'src', 'migrations', 'config');
    return changed ? `${head} + uncommitted changes in ${changed.split('\n').length} file(s) under src/migrations/config` : `${head} (src clean)`;
  } catch {
    return 'unknown (git not available)';
  }
}

async function main(): Promise<void> {
  console.log(`command: ${COMMAND}`);
  const openCount = count('BENCH_OPEN_REQUESTS', 100_000);
  const burstCount = count('BENCH_BURST', 10_000);
  const giveUpMs = Math.min(600, count('BENCH_GIVE_UP_S', DEFAULT_GIVE_UP_S)) * 1000;
  const serverUrl = process.env.BENCH_DATABASE_SERVER_URL || `postgres://postgres@${LOOPBACK}:5432/postgres`;
  const redisUrl = process.env.BENCH_REDIS_URL || `redis://${LOOPBACK}:6379`;
  requireLoopback(redisUrl, 'Redis');
  const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : null;
  const killAfterMs = process.env.BENCH_KILL_AFTER_S ? Math.min(60, count('BENCH_KILL_AFTER_S', 0)) * 1000 : null;
  if (killAfterMs !== null && profileDir) throw new Error('BENCH_KILL_AFTER_S and BENCH_PROFILE do not go together');
  const distDir = resolve(__dirname, '..');
  const startedAt = new Date();
  console.log(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${startedAt.toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `${integer(openCount)} open requests with far-away timers, then ${integer(burstCount)} deadlines inside ${WINDOW_MS / 1000} s ` +
      `starting ${LEAD_MS / 1000} s after the worker is idle; always-open calendar, response PT1H, resolution PT8H, warn at ${WARN_AT_PERCENT} %`,
  );
  console.log(`code measured: ${revision(resolve(distDir, '..'))}`);
  if (profileDir) console.log(`PROFILED RUN: the worker is CPU-profiled and its queries counted (BENCH_PROFILE=${profileDir}); figures are slowed by it`);

  const database = new ThrowAwayDatabase(serverUrl, 'handoff_bench_esc');
  const prefix = `bench-esc-${database.name.slice(-8)}`;
  const sink = new CountingSmtpSink();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3, connectTimeout: 3000, lazyConnect: true });
  let deadlinesQueue: Queue | undefined;
  let mailQueue: Queue | undefined;
  let worker: WorkerChild | undefined;
  let rss: RssSampler | undefined;
  let interruptedBy: string | null = null;
  const interrupted = (signal: string) => {
    interruptedBy = signal;
    worker?.kill();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    // ---- Infrastructure: SMTP sink, database (migrated, flower shop), Redis.
    await sink.start();
    await redis.connect();
    await database.create();
    console.log(`database ${database.name}, queue prefix ${prefix}, SMTP sink ${sink.url} (all removed at the end)`);
    await runPendingMigrations(database.url);
    const ds = new DataSource(dataSourceOptions(database.url, 2));
    await ds.initialize();
    let template: Template;
    try {
      const shop = await seedFlowerShop(ds, await new PasswordHasher().hash(DEMO_PASSWORD));
      const calendar = await ds.getRepository(Calendar).save({ name: 'Bench: around the clock', timezone: DEMO_ZONE, alwaysOpen: true, weeklyHours: [], holidays: [] });
      const provider = shop.departments.DESIGN;
      const service = await ds.getRepository(ProviderService).save({
        departmentId: provider.id,
        code: 'BENCH-ESC',
        name: 'Bench bouquet',
        description: 'Bouquets for the escalation benchmark',
        leadTime: 'PT2H',
        leadTimeSeconds: 7200,
        active: true,
      });
      const agreement = await ds.getRepository(Agreement).save({
        serviceId: service.id,
        customerDepartmentId: null,
        priority: null,
        version: 1,
        responseTarget: 'PT1H',
        responseTargetSeconds: RESPONSE_TARGET_S,
        resolutionTarget: 'PT8H',
        resolutionTargetSeconds: RESOLUTION_TARGET_S,
        calendarId: calendar.id,
        warnAtPercent: WARN_AT_PERCENT,
        pauseWhileBlocked: true,
        escalations: LEVELS,
        active: true,
      });
      const { id: _id, version, createdAt: _c, updatedAt: _u, ...snapshot } = agreement;
      await ds.getRepository(AgreementVersion).insert({ agreementId: agreement.id, version, terms: snapshot, changedBy: null });
      template = {
        serviceId: service.id,
        providerId: provider.id,
        customerId: shop.departments.SALES.id,
        requesterId: shop.users.clerk.id,
        agreementId: agreement.id,
        terms: termsOf(agreement, provider.calendarId, provider.timezone),
      };
    } finally {
      await ds.destroy();
    }

    // ---- 100 000 open requests, created over the last 30 minutes: their response warnings fall 15-45 minutes ahead.
    let phaseStart = Date.now();
    const nowSecond = Math.floor(Date.now() / 1000) * 1000;
    const open = await insertRequests(database, template, openCount, 'Bench open bouquet', nowSecond, '$8::bigint - (g % 1800) * 1000');
    await database.query('ANALYZE');
    console.log(`  inserted ${integer(open.length)} open requests in ${duration(Date.now() - phaseStart)}`);

    // ---- Their timers, the way DeadlineScheduler adds them; Redis memory before and after.
    const connection = bullConnection(redisUrl);
    deadlinesQueue = new Queue(QueueName.Deadlines, { connection, prefix });
    mailQueue = new Queue(QueueName.Mail, { connection, prefix });
    await Promise.all([deadlinesQueue.waitUntilReady(), mailQueue.waitUntilReady()]);
    const scheduler = new DeadlineScheduler(deadlinesQueue as Queue<ScheduledDeadline>, undefined as unknown as RequestsRepository, undefined as unknown as EscalationsRepository);
    const redisBefore = await redisUsedMemory(redis);
    phaseStart = Date.now();
    await addTimers(scheduler, deadlinesQueue, open, openCount);
    const addSeconds = (Date.now() - phaseStart) / 1000;
    const redisAfter = await redisUsedMemory(redis);
    const perTimer = (redisAfter - redisBefore) / openCount;
    const usage = await memoryUnderPrefix(redis, prefix);
    console.log(
      `  added ${integer(openCount)} timers in ${addSeconds.toFixed(1)} s; Redis used_memory ${mb(redisBefore)} -> ${mb(redisAfter)} ` +
        `(${integer(perTimer)} bytes per timer); Σ MEMORY USAGE under the prefix ${integer(usage.bytes / openCount)} bytes per timer in ${integer(usage.keys)} keys`,
    );

    // ---- The worker, as in production; wait until it is up and idle.
    const hookArgs = profileDir ? ['--require', join(distDir, 'bench', 'escalation-worker-hook.js')] : [];
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const workerMain = process.env.BENCH_WORKER_MAIN ? resolve(process.env.BENCH_WORKER_MAIN) : join(distDir, 'src', 'main.js');
    if (process.env.BENCH_WORKER_MAIN) console.log(`  WHAT-IF RUN: the worker is ${workerMain}`);
    const workerEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      TZ: process.env.TZ ?? 'UTC',
      ROLE: 'worker',
      NODE_ENV: 'production',
      JWT_SECRET,
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      SMTP_URL: sink.url,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'info', // start-up lines ending in "worker started", which the bench waits for; nothing per mail
      RECONCILE_INTERVAL_S: String(RECONCILE_INTERVAL_S),
      MIGRATIONS_RUN: 'true',
      ...(profileDir ? { BENCH_HOOK_DIR: profileDir } : {}),
    };
    worker = new WorkerChild(workerMain, workerEnv, hookArgs, Boolean(profileDir));
    const workerPid = worker.pid;
    if (!workerPid) throw new Error('the worker did not start');
    rss = new RssSampler(workerPid, 100);
    rss.phase = 'start-up';
    phaseStart = Date.now();
    await worker.waitForLine('Handoff worker started', 60_000);
    const startUpMs = Date.now() - phaseStart;
    await sleep(2000);
    const idleDeadline = Date.now() + 30_000;
    for (;;) {
      const [d, m] = await Promise.all([deadlinesQueue.getJobCounts('waiting', 'active'), mailQueue.getJobCounts('waiting', 'active')]);
      if (d.waiting + d.active + m.waiting + m.active === 0) break;
      if (Date.now() > idleDeadline) throw new Error(`the worker was not idle 30 s after start: ${JSON.stringify({ d, m })}`);
      await sleep(200);
    }
    rss.phase = 'idle';
    await sink.warmUp(SINK_WARM_UP_MAILS, MAIL_LANES);
    console.log(`  worker pid ${workerPid} started in ${duration(startUpMs)} and is idle (RSS ${mb(rss.max)}); SMTP sink warmed with ${integer(SINK_WARM_UP_MAILS)} mails of its own`);

    // ---- The burst: deadlines uniformly inside [windowStart, windowStart + WINDOW_MS).
    const windowStart = Date.now() + LEAD_MS;
    phaseStart = Date.now();
    const burst = await insertRequests(
      database,
      template,
      burstCount,
      'Bench burst bouquet',
      windowStart - WARNING_AFTER_MS,
      `$8::bigint + floor((g - 1)::numeric * ${WINDOW_MS} / $9::int)::bigint`,
    );
    await addTimers(scheduler, deadlinesQueue, burst, openCount + burstCount);
    const setupDone = Date.now();
    console.log(
      `  inserted ${integer(burstCount)} burst requests and added their timers in ${duration(setupDone - phaseStart)}; ` +
        `first deadline in ${duration(windowStart - setupDone)}`,
    );
    if (setupDone > windowStart - 1000) throw new Error('setting up the burst took too long: its first deadline was less than 1 s away');
    const dueOf = new Map(burst.map((r) => [r.id, r.dueAt]));
    const firstDue = Math.min(...burst.map((r) => r.dueAt));
    const lastDue = Math.max(...burst.map((r) => r.dueAt));

    // ---- Measure from just before the first deadline until every mail is in (or we give up).
    await sleep(Math.max(0, windowStart - 1000 - Date.now()));
    let profileAnswer = '';
    if (profileDir) profileAnswer = await worker.ask('esc-start', ['esc-started']);
    const redisPid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1] ?? 0);
    const pgPids = await database.backendPids();
    const probe = new RoundTripProbe(database.url);
    const idleRoundTrips = stats(await probe.burst(200));
    probe.samples.length = 0;
    probe.start(50);
    const cpu = { worker: new CpuMeter([workerPid]), postgres: new CpuMeter(pgPids), redis: new CpuMeter(redisPid ? [redisPid] : []) };
    const ownCpu = process.cpuUsage();
    const cpuFrom = Date.now();
    rss.phase = 'burst';
    console.log(`  waiting for ${integer(burstCount)} mails (giving up ${giveUpMs / 1000} s after the first deadline) ...`);
    const received = new Set<string>();
    let seen = 0;
    let lastProgress = 0;
    const giveUpAt = firstDue + giveUpMs;
    // BENCH_KILL_AFTER_S: the worker dies mid-burst, as a crashed host or an OOM kill would leave it.
    let takeover: { killedAt: number; upAt: number; pid: number | undefined } | null = null;
    while (received.size < burstCount && Date.now() < giveUpAt && !worker.hasExited && !interruptedBy) {
      if (killAfterMs !== null && !takeover && Date.now() >= firstDue + killAfterMs) {
        const killedAt = Date.now();
        worker.kill();
        await worker.exit;
        worker = new WorkerChild(workerMain, workerEnv, [], false);
        await worker.waitForLine('Handoff worker started', 60_000);
        takeover = { killedAt, upAt: Date.now(), pid: worker.pid };
        console.log(`    SIGKILL at +${((killedAt - firstDue) / 1000).toFixed(1)} s; the next worker (pid ${takeover.pid}) was up ${takeover.upAt - killedAt} ms later`);
      }
      for (; seen < sink.accepted.length; seen++) if (dueOf.has(sink.accepted[seen].requestId)) received.add(sink.accepted[seen].requestId);
      if (Date.now() - lastProgress >= 5000 && Date.now() > firstDue) {
        lastProgress = Date.now();
        console.log(`    +${((Date.now() - firstDue) / 1000).toFixed(0)} s: ${integer(received.size)} mails`);
      }
      await sleep(50);
    }
    const gaveUp = received.size < burstCount;
    await sleep(DUPLICATE_GRACE_MS);
    const cpuSeconds = (Date.now() - cpuFrom) / 1000;
    const own = process.cpuUsage(ownCpu);
    const cpuUsed = {
      worker: cpu.worker.usedMs(takeover?.pid ? [workerPid, takeover.pid] : [workerPid]),
      postgres: cpu.postgres.usedMs(await database.backendPids()),
      redis: cpu.redis.usedMs(redisPid ? [redisPid] : []),
      bench: (own.user + own.system) / 1000,
    };
    if (profileDir) profileAnswer = await worker.ask('esc-stop', ['esc-written'], 60_000);
    rss.sample();
    rss.stop();
    const acceptedInTime = sink.accepted.length;
    const measuredUntil = Date.now();
    await probe.stop();
    const burstRoundTrips = stats(probe.samples);
    if (interruptedBy) throw new Error(`interrupted by ${interruptedBy}`);
    if (worker.hasExited) throw new Error(`the worker exited during the burst:\n${worker.tail()}`);
    // SIGTERM lets the worker finish the jobs in flight; what it mails meanwhile counts for completeness, not lateness.
    await worker.stop(30_000);

    // ---- What arrived: first acceptance per burst request, duplicates, strays.
    const firstAccepted = new Map<string, number>();
    let duplicates = 0;
    let strays = 0;
    let wrongKind = 0;
    let drained = 0;
    const everMailed = new Set<string>();
    for (const [i, mail] of sink.accepted.entries()) {
      if (!dueOf.has(mail.requestId)) {
        strays++;
        continue;
      }
      if (mail.kind !== 'response_warning') wrongKind++;
      if (everMailed.has(mail.requestId)) duplicates++;
      else if (i < acceptedInTime) firstAccepted.set(mail.requestId, mail.acceptedAt);
      else drained++;
      everMailed.add(mail.requestId);
    }
    const missing = burstCount - firstAccepted.size;
    const lateness: number[] = burst.map((r) => (firstAccepted.has(r.id) ? firstAccepted.get(r.id)! - r.dueAt : Infinity));
    const late = stats(lateness);
    const acceptedTimes = [...firstAccepted.values()];
    const firstMail = Math.min(...acceptedTimes);
    const lastMail = Math.max(...acceptedTimes);
    const mailsPerSecond = acceptedTimes.length > 1 ? (acceptedTimes.length / (lastMail - firstMail)) * 1000 : NaN;
    const burstDoneMs = missing === 0 ? lastMail - firstDue : Infinity;

    // ---- Stages from the database: escalation recorded (fired_at), outbox claimed, outbox marked sent.
    const stageRows = await database.query<{ request_id: string; fired: number; claimed: number | null; sent: number | null; status: string; attempts: number }>(
      `SELECT e.request_id, (extract(epoch FROM e.fired_at) * 1000)::float8 AS fired, (extract(epoch FROM m.claimed_at) * 1000)::float8 AS claimed,
              (extract(epoch FROM m.sent_at) * 1000)::float8 AS sent, m.status, m.attempts
       FROM escalations e JOIN mail_outbox m ON m.escalation_id = e.id`,
    );
    // Over every burst deadline, like the sink's row: a stage not reached by the give-up time counts as never.
    const stageOf = new Map(stageRows.map((r) => [r.request_id, r]));
    const stage = (pick: (r: (typeof stageRows)[number]) => number | null) =>
      stats(
        burst.map((b) => {
          const row = stageOf.get(b.id);
          const at = row ? pick(row) : null;
          return at !== null && at <= measuredUntil ? at - b.dueAt : Infinity;
        }),
      );

    if (process.env.BENCH_TIMELINE) {
      const header = 'due_ms,recorded_ms,claimed_ms,marked_sent_ms,accepted_ms\n';
      const rows = burst.map((b) => {
        const row = stageOf.get(b.id);
        return [b.dueAt, row?.fired ?? '', row?.claimed ?? '', row?.sent ?? '', firstAccepted.get(b.id) ?? ''].join(',');
      });
      writeFileSync(resolve(process.env.BENCH_TIMELINE), header + rows.join('\n') + '\n');
      console.log(`  timeline of each burst deadline (epoch ms) written to ${resolve(process.env.BENCH_TIMELINE)}`);
    }
    const statusCounts = new Map<string, number>();
    for (const r of stageRows) statusCounts.set(r.status, (statusCounts.get(r.status) ?? 0) + 1);
    const [fate] = await database.query<{ sent: number; failed: number; unsent: number; unfired: number; lost: number }>(
      `SELECT count(*) FILTER (WHERE m.status = 'sent')::int AS sent,
              count(*) FILTER (WHERE m.status = 'failed')::int AS failed,
              count(*) FILTER (WHERE m.status IN ('pending', 'sending'))::int AS unsent,
              count(*) FILTER (WHERE m.id IS NULL AND e.id IS NULL AND r.next_deadline_kind = 'response_warning')::int AS unfired,
              count(*) FILTER (WHERE m.id IS NULL AND NOT (e.id IS NULL AND r.next_deadline_kind IS NOT DISTINCT FROM 'response_warning'))::int AS lost
       FROM unnest($1::uuid[]) AS b(id) JOIN requests r ON r.id = b.id
       LEFT JOIN escalations e ON e.request_id = b.id LEFT JOIN mail_outbox m ON m.escalation_id = e.id`,
      [burst.map((r) => r.id)],
    );
    const [escalationRows] = await database.query<{ total: number; burst: number; distinct_burst: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE request_id = ANY($1::uuid[]))::int AS burst,
              count(DISTINCT request_id) FILTER (WHERE request_id = ANY($1::uuid[]))::int AS distinct_burst FROM escalations`,
      [burst.map((r) => r.id)],
    );
    const [nextTimers] = await database.query<{ breach: number }>(
      `SELECT count(*)::int AS breach FROM requests WHERE id = ANY($1::uuid[]) AND next_deadline_kind = 'response_breach'`,
      [burst.map((r) => r.id)],
    );
    const delayedAfter = await deadlinesQueue.getDelayedCount();

    // ---- The 5-minute scan, for the same deadlines: one random phase, and pooled over 300 phases 1 s apart.
    const phase = Math.floor(Math.random() * SCAN_PERIOD_MS);
    const scanOne = stats(burst.map((r) => scanLateness(r.dueAt, phase)));
    const pooled: number[] = [];
    for (let k = 0; k < 300; k++) for (const r of burst) pooled.push(scanLateness(r.dueAt, k * 1000 + (phase % 1000)));
    const scanAll = stats(pooled);

    // ---- Report.
    const ms = (n: number) => (Number.isFinite(n) ? duration(n) : `> ${giveUpMs / 1000} s`);
    console.log('');
    console.log(
      table(
        ['lateness: deadline -> mail accepted by SMTP', 'p50', 'p99', 'max', 'deadlines'],
        [
          ['Handoff timers (measured)', ms(late.p50), ms(late.p99), ms(late.max), integer(late.n)],
          [`5-minute scan, one random phase (scans at ${(phase / 1000).toFixed(0)} s past each 5 min)`, duration(scanOne.p50), duration(scanOne.p99), duration(scanOne.max), integer(scanOne.n)],
          ['5-minute scan, over all phases (300 phases, same deadlines)', duration(scanAll.p50), duration(scanAll.p99), duration(scanAll.max), integer(scanAll.n)],
        ],
      ),
    );
    console.log('(the scan rows count only the wait for the next scan: sending 10 000 mails after it would add to them)');
    console.log('');
    if (takeover) {
      // Which mails the kill touched: due before it (some sent, some claimed or queued by the dead
      // worker), due while no worker ran, due once the next one was up.
      const { killedAt, upAt } = takeover;
      const phaseOf = (dueAt: number) => (dueAt < killedAt ? 0 : dueAt < upAt ? 1 : 2);
      const byPhase = [[], [], []] as number[][];
      burst.forEach((r, i) => byPhase[phaseOf(r.dueAt)].push(lateness[i]));
      const after = sink.accepted.filter((m) => dueOf.has(m.requestId) && m.acceptedAt >= killedAt).length;
      const row = (label: string, values: number[]) => {
        if (values.length === 0) return [label, '-', '-', '-', '0'];
        const x = stats(values);
        return [label, ms(x.p50), ms(x.p99), ms(x.max), integer(values.length)];
      };
      console.log(
        table(
          [`takeover: SIGKILL at +${((killedAt - firstDue) / 1000).toFixed(1)} s, next worker up ${upAt - killedAt} ms later`, 'p50', 'p99', 'max', 'deadlines'],
          [
            row('due before the kill', byPhase[0]),
            row('due while no worker ran', byPhase[1]),
            row('due once the next worker was up', byPhase[2]),
            row(
              '  claimed twice (the killed worker had claimed them)',
              burst.flatMap((r, i) => ((stageOf.get(r.id)?.attempts ?? 0) > 1 ? [lateness[i]] : [])),
            ),
            row(
              '  fired by the killed worker, claimed once, by the next',
              burst.flatMap((r, i) => {
                const st = stageOf.get(r.id);
                return st && st.attempts === 1 && st.fired < killedAt && (st.claimed ?? 0) >= killedAt ? [lateness[i]] : [];
              }),
            ),
          ],
        ),
      );
      console.log(`(${integer(after)} burst mails accepted after the kill; the worker CPU below is the next worker's from its start (the killed one's went with it), the RSS the first worker's)`);
      console.log('');
    }
    // Second by second: a lateness that climbs through the window is a backlog (sending slower than
    // deadlines arrive); one that jumps and falls back is a stall.
    const seconds = Math.ceil((lastDue - firstDue + 1) / 1000);
    const bySecond = Array.from({ length: seconds }, () => [] as { dueAt: number; lateness: number; row: (typeof stageRows)[number] | undefined }[]);
    burst.forEach((r, i) => bySecond[Math.min(seconds - 1, Math.floor((r.dueAt - firstDue) / 1000))].push({ dueAt: r.dueAt, lateness: lateness[i], row: stageOf.get(r.id) }));
    const sentBySecond = new Array<number>(seconds + 30).fill(0);
    for (const at of acceptedTimes) sentBySecond[Math.max(0, Math.min(sentBySecond.length - 1, Math.floor((at - firstDue) / 1000)))]++;
    console.log(
      table(
        ['second of the burst', 'deadlines', 'recorded p50', 'claimed p50', 'mailed p50', 'p99', 'max', 'mails accepted in that second'],
        bySecond.map((inSecond, k) => {
          const mailed = stats(inSecond.map((d) => d.lateness));
          const stageP50 = (pick: (r: (typeof stageRows)[number]) => number | null) =>
            stats(inSecond.map(({ row, dueAt }) => (row && pick(row) !== null ? pick(row)! - dueAt : Infinity))).p50;
          return [`+${k} s`, integer(inSecond.length), ms(stageP50((r) => r.fired)), ms(stageP50((r) => r.claimed)), ms(mailed.p50), ms(mailed.p99), ms(mailed.max), integer(sentBySecond[k])];
        }),
      ),
    );
    console.log('');
    const fired = stage((r) => r.fired);
    const claimed = stage((r) => r.claimed);
    const sent = stage((r) => r.sent);
    console.log(
      table(
        ['where the time goes (from each deadline)', 'p50', 'p99', 'max', 'reached in time'],
        [
          ['escalation recorded (escalations.fired_at)', ms(fired.p50), ms(fired.p99), ms(fired.max), integer(fired.finite)],
          ['mail claimed for sending (mail_outbox.claimed_at)', ms(claimed.p50), ms(claimed.p99), ms(claimed.max), integer(claimed.finite)],
          ['mail marked sent (mail_outbox.sent_at)', ms(sent.p50), ms(sent.p99), ms(sent.max), integer(sent.finite)],
          ['mail accepted by the SMTP sink', ms(late.p50), ms(late.p99), ms(late.max), integer(late.finite)],
        ],
      ),
    );
    console.log('');
    const rssMax = rss.max;
    const mailed = Math.max(1, acceptedTimes.length);
    const cpuText = (usedMs: number | null, core: boolean) =>
      usedMs === null
        ? 'n/a'
        : `${(usedMs / 1000).toFixed(1)} s, ${(usedMs / mailed).toFixed(1)} ms per mail` + (core ? ` (${(usedMs / 10 / cpuSeconds).toFixed(0)} % of a core)` : '');
    const phaseRss = (name: string) => mb(rss?.phaseMax.get(name) ?? 0);
    console.log(
      table(
        ['figure', 'value'],
        [
          ['first deadline -> last mail accepted', ms(burstDoneMs)],
          ['deadlines spread over', duration(lastDue - firstDue)],
          [
            'PostgreSQL round trip (SELECT 1 on its own connection) p50 / p99',
            `idle ${idleRoundTrips.p50.toFixed(2)} / ${idleRoundTrips.p99.toFixed(2)} ms, during the burst ${burstRoundTrips.p50.toFixed(2)} / ${burstRoundTrips.p99.toFixed(2)} ms`,
          ],
          ['first mail -> last mail', duration(lastMail - firstMail)],
          ['mails per second (first to last mail)', Number.isFinite(mailsPerSecond) ? integer(mailsPerSecond) : 'n/a'],
          ['Redis per pending timer (used_memory delta / timers)', `${integer(perTimer)} bytes`],
          ['Redis per pending timer (Σ MEMORY USAGE under the prefix / timers)', `${integer(usage.bytes / openCount)} bytes`],
          ['worker RSS max (start-up / idle / burst)', `${mb(rssMax)} (${phaseRss('start-up')} / ${phaseRss('idle')} / ${phaseRss('burst')})`],
          [`CPU during the burst (${cpuSeconds.toFixed(1)} s wall, ${cpus().length} cores)`, ''],
          ['  worker process', cpuText(cpuUsed.worker, true)],
          ['  PostgreSQL backends of the bench database', cpuText(cpuUsed.postgres, false)],
          ['  redis-server (shared with other users)', cpuText(cpuUsed.redis, false)],
          ['  bench process (SMTP sink)', cpuText(cpuUsed.bench, false)],
        ],
      ),
    );
    console.log('');
    console.log(
      table(
        ['Redis keys under the prefix after adding the timers', 'keys', 'Σ MEMORY USAGE', 'per timer'],
        [...usage.byKind.entries()]
          .sort((x, y) => y[1].bytes - x[1].bytes)
          .slice(0, 6)
          .map(([kind, u]) => [kind, integer(u.keys), `${integer(u.bytes)} bytes`, `${integer(u.bytes / openCount)} bytes`]),
      ),
    );
    console.log('');
    const firedCount = escalationRows.burst;
    const unmailed = burstCount - everMailed.size;
    const sound = fate.lost === 0 && duplicates === 0 && strays === 0 && wrongKind === 0 && sink.unlabelled === 0 && fate.failed === 0;
    console.log(
      table(
        ['completeness (by X-Handoff-Request at the sink)', 'count', 'check'],
        [
          [`burst requests mailed within ${giveUpMs / 1000} s of the first deadline`, integer(firstAccepted.size), missing === 0 ? 'OK' : 'LATE'],
          ['  mailed later, while the worker drained its jobs in flight (SIGTERM)', integer(drained), 'info'],
          ['  still not mailed when the worker had stopped', integer(unmailed), 'info'],
          ['    fired, mail waiting in the outbox (pending / sending)', integer(fate.unsent), 'info'],
          ['    not fired yet (timer still queued in Redis)', integer(fate.unfired), 'info'],
          ['    lost (no mail, no outbox row, no timer)', integer(fate.lost), fate.lost === 0 ? 'OK' : 'FAIL'],
          ['  outbox rows failed', integer(fate.failed), fate.failed === 0 ? 'OK' : 'FAIL'],
          ['duplicated (second mail for the same request)', integer(duplicates), duplicates === 0 ? 'OK' : 'FAIL'],
          ['mails for requests outside the burst', integer(strays), strays === 0 ? 'OK' : 'FAIL'],
          ['mails of another kind than response_warning', integer(wrongKind), wrongKind === 0 ? 'OK' : 'FAIL'],
          ['mails without X-Handoff-Request', integer(sink.unlabelled), sink.unlabelled === 0 ? 'OK' : 'FAIL'],
          ['escalations recorded (burst / distinct / all)', `${integer(firedCount)} / ${integer(escalationRows.distinct_burst)} / ${integer(escalationRows.total)}`, escalationRows.total === firedCount && escalationRows.distinct_burst === firedCount ? 'OK' : 'FAIL'],
          ['outbox rows by status', [...statusCounts.entries()].map(([s, n]) => `${s} ${integer(n)}`).join(', ') || 'none', stageRows.length === firedCount ? 'OK' : 'FAIL'],
          ['fired burst requests now timed for response_breach', integer(nextTimers.breach), nextTimers.breach === firedCount ? 'OK' : 'FAIL'],
          ['delayed timers in Redis at the end', integer(delayedAfter), 'info'],
        ],
      ),
    );
    if (gaveUp) console.log(`(gave up waiting ${giveUpMs / 1000} s after the first deadline; the database figures are read after the worker stopped)`);
    console.log('');
    const verdicts: Array<[string, string, boolean]> = [
      [`p99 lateness <= ${TARGET_P99_MS / 1000} s`, ms(late.p99), late.p99 <= TARGET_P99_MS],
      [`burst fully mailed within ${TARGET_BURST_DONE_MS / 1000} s of the first deadline`, ms(burstDoneMs), burstDoneMs <= TARGET_BURST_DONE_MS],
      [`Redis per open request <= ${TARGET_REDIS_BYTES} bytes`, `${integer(perTimer)} bytes`, perTimer <= TARGET_REDIS_BYTES],
      [`worker RSS <= ${mb(TARGET_RSS_BYTES)}`, mb(rssMax), rssMax <= TARGET_RSS_BYTES],
      ['no mail lost, failed, duplicated or stray', sound ? 'none' : 'some', sound],
    ];
    console.log(table(['target', 'measured', 'verdict'], verdicts.map(([name, value, ok]) => [name, value, ok ? 'PASS' : 'FAIL'])));

    if (profileDir) {
      console.log(`\nworker profile (${profileAnswer}): ${join(profileDir, 'worker.cpuprofile')}, counts: ${join(profileDir, 'worker-counts.json')}`);
      if (profileAnswer === 'esc-written') printProfile(profileDir, firstAccepted.size);
    }
    const allPass = verdicts.every(([, , ok]) => ok);
    console.log(`\noverall: ${allPass ? 'PASS' : 'FAIL'}`);
    if (!allPass) process.exitCode = 1;
  } finally {
    rss?.stop();
    if (worker) {
      await worker.stop().catch(() => undefined);
      const warnings = worker.lines().filter((l) => !isInfoLine(l));
      if (warnings.length) console.log(`\nworker output (last ${Math.min(15, warnings.length)} of ${warnings.length} lines):\n${warnings.slice(-15).join('\n')}`);
    }
    await deadlinesQueue?.close().catch(() => undefined);
    await mailQueue?.close().catch(() => undefined);
    const deleted =
      redis.status === 'ready' ? await deleteKeysUnder(redis, prefix).catch((error: Error) => `could not delete them: ${error.message}`) : 'Redis not connected';
    redis.disconnect();
    const dropped = await database.drop().then(
      () => 'dropped',
      (error: Error) => `could not be dropped: ${error.message}`,
    );
    console.log(`cleaned up: Redis keys under ${prefix}: ${typeof deleted === 'number' ? `${integer(deleted)} deleted` : deleted}; database ${database.name} ${dropped}`);
    await sink.stop();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

interface Counted {
  key: string;
  n: number;
  ms: number;
}

function printProfile(dir: string, fires: number): void {
  const summary = summariseCpuProfile(join(dir, 'worker.cpuprofile'));
  const share = (v: number) => `${((v / summary.totalMs) * 100).toFixed(1)} %`;
  console.log(`\nworker CPU profile during the burst: ${(summary.totalMs / 1000).toFixed(1)} s of samples (idle included)`);
  console.log(table(['self time by area', 'ms', 'share'], summary.byArea.slice(0, 14).map((a) => [a.name, integer(a.ms), share(a.ms)])));
  console.log('');
  console.log(table(['self time by function (top 20)', 'ms', 'share'], summary.byFunction.slice(0, 20).map((f) => [f.name.slice(0, 110), integer(f.ms), share(f.ms)])));
  const counts = JSON.parse(readFileSync(join(dir, 'worker-counts.json'), 'utf8')) as {
    sql: Counted[];
    redis: Counted[];
    memoryMax: Record<string, number>;
  };
  console.log(`\nworker process.memoryUsage() max during the burst: ${Object.entries(counts.memoryMax).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}`);
  const per = (n: number) => (fires > 0 ? (n / fires).toFixed(2) : 'n/a');
  const sqlTotal = counts.sql.reduce((s, c) => s + c.n, 0);
  const redisTotal = counts.redis.reduce((s, c) => s + c.n, 0);
  console.log(`\nSQL statements during the burst: ${integer(sqlTotal)} = ${per(sqlTotal)} per mail (${integer(fires)} mails)`);
  console.log(table(['statement', 'count', 'per mail', 'avg ms'], counts.sql.slice(0, 25).map((c) => [c.key.slice(0, 120), integer(c.n), per(c.n), (c.ms / c.n).toFixed(1)])));
  console.log(`\nRedis commands / BullMQ scripts during the burst: ${integer(redisTotal)} = ${per(redisTotal)} per mail`);
  console.log(table(['command', 'count', 'per mail', 'avg ms'], counts.redis.slice(0, 20).map((c) => [c.key, integer(c.n), per(c.n), (c.ms / c.n).toFixed(1)])));
}

main()
  .catch((error: Error) => {
    console.error(`bench:escalation failed: ${error.stack ?? error.message}`);
    process.exitCode = 1;
  })
  // Everything is closed by now; should a stray handle remain, it must not keep the process up.
  .finally(() => setTimeout(() => process.exit(), 2000).unref());

/** A pino line below warn (the worker's "started" line): not worth showing among the worker's warnings. */
function isInfoLine(line: string): boolean {
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' && level < 40;
  } catch {
    return false;
  }
}
