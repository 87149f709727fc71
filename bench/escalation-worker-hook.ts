// Preloaded (node --require) into the worker child by bench/escalation.bench.ts when BENCH_PROFILE
// is set; never part of the app. Between an 'esc-start' and an 'esc-stop' message on the IPC channel
// it CPU-profiles the process (V8 sampling profiler) and counts every SQL statement sent through
// `pg` and every Redis command / BullMQ Lua script sent through `ioredis`, with their latency
// (from send to reply, event-loop waits included), and samples process.memoryUsage() (the maximum
// of each figure, plus heapUsed right after a full GC forced every 10 s). On 'esc-stop' it writes worker.cpuprofile and
// worker-counts.json into BENCH_HOOK_DIR and answers 'esc-written'. Nest's shutdown hooks own the
// usual signals, hence IPC; the channel is unref'd so it never keeps the worker alive.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import Redis from 'ioredis';
import Pipeline from 'ioredis/built/Pipeline';
import { Client } from 'pg';

interface Tally {
  n: number;
  ms: number;
}

const sql = new Map<string, Tally>();
const redis = new Map<string, Tally>();
let counting = false;
const memoryMax = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
let memoryTimer: NodeJS.Timeout | undefined;
let gcTimer: NodeJS.Timeout | undefined;
/** heapUsed right after a forced full GC (every 10 s while counting): the live set, garbage left out. */
let liveHeapMax = 0;
function sampleMemory(): void {
  const m = process.memoryUsage();
  for (const k of Object.keys(memoryMax) as (keyof typeof memoryMax)[]) memoryMax[k] = Math.max(memoryMax[k], m[k]);
}
const directory = process.env.BENCH_HOOK_DIR ?? '.';

function tally(map: Map<string, Tally>, key: string, started: number): void {
  const entry = map.get(key) ?? { n: 0, ms: 0 };
  entry.n++;
  entry.ms += performance.now() - started;
  map.set(key, entry);
}

/** One key per statement shape: whitespace folded, uuid literals replaced (the mail sender's mark inlines its id). */
const sqlKey = (text: string) =>
  text
    .replace(/'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'/gi, "'<uuid>'")
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 140);

type AnyFn = (...args: unknown[]) => unknown;
const isThenable = (value: unknown): value is Promise<unknown> => typeof (value as { then?: unknown })?.then === 'function';

// ---- pg: Client.prototype.query(text | config, values?, callback?)
const pgProto = Client.prototype as unknown as { query: AnyFn };
const pgQuery = pgProto.query;
pgProto.query = function (this: unknown, ...args: unknown[]) {
  const result = pgQuery.apply(this, args);
  if (!counting) return result;
  const first = args[0];
  const text = typeof first === 'string' ? first : typeof (first as { text?: unknown })?.text === 'string' ? (first as { text: string }).text : '(stream or prepared)';
  const started = performance.now();
  if (isThenable(result)) {
    result.then(
      () => tally(sql, sqlKey(text), started),
      () => tally(sql, `${sqlKey(text)} [failed]`, started),
    );
  } else {
    tally(sql, sqlKey(text), started);
  }
  return result;
};

// ---- ioredis: plain commands by name; BullMQ's Lua scripts (defineCommand) by script name.
const redisProto = Redis.prototype as unknown as { sendCommand: AnyFn; defineCommand: AnyFn } & Record<string, unknown>;
const sendCommand = redisProto.sendCommand;
redisProto.sendCommand = function (this: unknown, ...args: unknown[]) {
  const result = sendCommand.apply(this, args);
  const name = String((args[0] as { name?: string })?.name ?? '?');
  if (!counting || name === 'evalsha' || name === 'eval') return result;
  const started = performance.now();
  if (isThenable(result)) result.then(() => tally(redis, name, started), () => tally(redis, `${name} [failed]`, started));
  return result;
};
// Pipelines (BullMQ's addBulk sends its evalsha calls in one): one entry per round trip.
const pipelineProto = Pipeline.prototype as unknown as { exec: AnyFn };
const pipelineExec = pipelineProto.exec;
pipelineProto.exec = function (this: { length?: number }, ...args: unknown[]) {
  const size = this.length ?? 0;
  const result = pipelineExec.apply(this, args);
  if (!counting) return result;
  const started = performance.now();
  const key = `pipeline of ${size} command(s)`;
  if (isThenable(result)) result.then(() => tally(redis, key, started), () => tally(redis, `${key} [failed]`, started));
  return result;
};
const defineCommand = redisProto.defineCommand;
redisProto.defineCommand = function (this: Record<string, unknown>, name: unknown, ...rest: unknown[]) {
  const defined = defineCommand.call(this, name, ...rest);
  const key = String(name);
  const original = this[key] as AnyFn | undefined;
  if (typeof original === 'function') {
    this[key] = function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      if (!counting) return result;
      const started = performance.now();
      if (isThenable(result)) result.then(() => tally(redis, `script ${key}`, started), () => tally(redis, `script ${key} [failed]`, started));
      return result;
    };
  }
  return defined;
};

// ---- CPU profile and the IPC protocol
const session = new Session();
session.connect();
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));

process.channel?.unref();
process.on('message', (message: unknown) => {
  void (async () => {
    try {
      if (message === 'esc-start') {
        sql.clear();
        redis.clear();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 1000 });
        await post('Profiler.start');
        counting = true;
        for (const k of Object.keys(memoryMax) as (keyof typeof memoryMax)[]) memoryMax[k] = 0;
        memoryTimer = setInterval(sampleMemory, 200);
        memoryTimer.unref();
        liveHeapMax = 0;
        gcTimer = setInterval(() => {
          void post('HeapProfiler.collectGarbage').then(() => (liveHeapMax = Math.max(liveHeapMax, process.memoryUsage().heapUsed)));
        }, 10_000);
        gcTimer.unref();
        process.send?.('esc-started');
      } else if (message === 'esc-stop') {
        counting = false;
        clearInterval(memoryTimer);
        clearInterval(gcTimer);
        sampleMemory();
        const { profile } = (await post('Profiler.stop')) as { profile: unknown };
        writeFileSync(join(directory, 'worker.cpuprofile'), JSON.stringify(profile));
        const dump = (m: Map<string, Tally>) => [...m.entries()].map(([key, t]) => ({ key, n: t.n, ms: Math.round(t.ms) })).sort((a, b) => b.n - a.n);
        writeFileSync(join(directory, 'worker-counts.json'), JSON.stringify({ sql: dump(sql), redis: dump(redis), memoryMax: { ...memoryMax, liveHeapAfterGc: liveHeapMax } }, null, 1));
        process.send?.('esc-written');
      }
    } catch (error) {
      process.send?.(`esc-hook-failed: ${(error as Error).message}`);
    }
  })();
});
