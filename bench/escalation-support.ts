// Helpers for the escalation benchmark (bench/escalation.bench.ts): an SMTP sink that only counts,
// a throw-away database, the worker child process, /proc readings, Redis clean-up, percentiles,
// a CPU-profile summary and a plain-text table. Self-contained, so it does not depend on the
// helpers of the other benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type Redis from 'ioredis';
import { Client } from 'pg';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { SMTPServer } from 'smtp-server';

export const LOOPBACK = '127.0.0.1';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function requireLoopback(url: string, what: string): void {
  const host = new URL(url).hostname;
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`The benchmark only uses a loopback ${what}; got host "${host}"`);
}

// ---------------------------------------------------------------------------------------------
// SMTP sink: accepts everything, keeps only (request id, kind, moment of acceptance).

export interface AcceptedMail {
  requestId: string;
  kind: string;
  /** Date.now() when the message's DATA had fully arrived, right before the sink answers 250. */
  acceptedAt: number;
}

export class CountingSmtpSink {
  readonly accepted: AcceptedMail[] = [];
  /** Mails without an X-Handoff-Request header (should stay 0). */
  unlabelled = 0;
  private readonly server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, _session, callback) => {
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          // Only the header block is needed; it is well inside the first 16 KB.
          if (size < 16_384) chunks.push(chunk);
          size += chunk.length;
        });
        stream.on('end', () => {
          const acceptedAt = Date.now();
          const text = Buffer.concat(chunks).toString('latin1');
          const end = text.search(/\r?\n\r?\n/);
          const headerBlock = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, ' ');
          let requestId = '';
          let kind = '';
          for (const line of headerBlock.split(/\r?\n/)) {
            const colon = line.indexOf(':');
            if (colon <= 0) continue;
            const name = line.slice(0, colon).trim().toLowerCase();
            if (name === 'x-handoff-request') requestId = line.slice(colon + 1).trim();
            else if (name === 'x-handoff-escalation') kind = line.slice(colon + 1).trim();
          }
          if (requestId) this.accepted.push({ requestId, kind, acceptedAt });
          else this.unlabelled++;
          callback();
        });
      },
    });
  }

  async start(): Promise<void> {
    this.server.on('error', () => undefined); // a client reset (SIGTERM mid-send) is not the sink's failure
    this.server.listen(0, LOOPBACK);
    await once(this.server.server, 'listening');
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `smtp://${LOOPBACK}:${this.port}`;
  }

  /**
   * Sends `count` mails to the sink over `connections` sessions and forgets them, so the burst meets
   * a server whose code has run before, as a mail server that has been up for a while would be: a
   * sink meeting its first mail in the burst made the first seconds' figures about its own start.
   */
  async warmUp(count: number, connections: number): Promise<void> {
    const raw = Buffer.from(`X-Handoff-Request: warm-up\r\nSubject: warm-up\r\n\r\n${'Warm-up line.\r\n'.repeat(100)}`);
    await Promise.all(
      Array.from({ length: connections }, async () => {
        const connection = new SMTPConnection({ host: LOOPBACK, port: this.port, ignoreTLS: true });
        await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
        for (let i = 0; i < Math.ceil(count / connections); i++) {
          await new Promise<void>((resolve, reject) =>
            connection.send({ from: 'warm-up@localhost', to: ['warm-up@localhost'] }, raw, (error) => (error ? reject(error) : resolve())),
          );
        }
        connection.quit();
      }),
    );
    this.accepted.length = 0;
  }

  async stop(): Promise<void> {
    await Promise.race([new Promise<void>((resolve) => this.server.close(() => resolve())), sleep(5000)]);
  }
}

// ---------------------------------------------------------------------------------------------
// database

/** A fresh database on a loopback server (the URL names any existing database, e.g. /postgres). */
export class ThrowAwayDatabase {
  readonly name: string;
  readonly url: string;
  private created = false;

  constructor(
    private readonly serverUrl: string,
    prefix: string,
  ) {
    requireLoopback(serverUrl, 'database server');
    this.name = `${prefix}_${randomBytes(4).toString('hex')}`;
    const target = new URL(serverUrl);
    target.pathname = `/${this.name}`;
    this.url = target.toString();
  }

  async create(): Promise<void> {
    await this.admin(`CREATE DATABASE "${this.name}"`);
    this.created = true;
  }

  async drop(): Promise<void> {
    if (!this.created) return;
    await this.admin(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
    this.created = false;
  }

  async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** PostgreSQL backends serving this database (for CPU accounting). */
  async backendPids(): Promise<number[]> {
    const rows = await this.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [this.name]);
    return rows.map((r) => r.pid);
  }

  private async admin(sql: string): Promise<void> {
    const client = new Client({ connectionString: this.serverUrl, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the worker child

export class WorkerChild {
  private readonly output: string[] = [];
  private readonly messages: string[] = [];
  private exited = false;
  readonly exit: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(script: string, env: Record<string, string>, nodeArgs: string[], ipc: boolean) {
    this.child = spawn(process.execPath, [...nodeArgs, script], { env, stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] });
    this.child.channel?.unref();
    this.child.on('message', (message) => this.messages.push(String(message)));
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.output.push(line);
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** Every line the child printed so far (the last 400). */
  lines(): string[] {
    return [...this.output];
  }

  tail(lines = 20): string {
    return this.output.slice(-lines).join('\n');
  }

  /** Waits (bounded) for a line of output containing `text`. */
  async waitForLine(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.output.some((line) => line.includes(text))) return;
      if (this.exited) throw new Error(`the worker exited before printing "${text}":\n${this.tail()}`);
      await sleep(50);
    }
    throw new Error(`the worker did not print "${text}" within ${timeoutMs / 1000} s:\n${this.tail()}`);
  }

  /** Sends a message on the IPC channel and waits (bounded) for an answer starting with one of answers. */
  async ask(message: string, answers: string[], timeoutMs = 20_000): Promise<string> {
    if (!this.child.send) return 'no IPC channel';
    const seen = this.messages.length;
    this.child.send(message);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.exited) {
      const reply = this.messages.slice(seen).find((m) => answers.some((a) => m.startsWith(a)) || m.startsWith('esc-hook-failed'));
      if (reply) return reply;
      await sleep(25);
    }
    return `no answer to ${message}`;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL when it has not exited within graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// /proc (Linux; elsewhere the readings are missing, never wrong)

/** VmRSS of a process in bytes, or null when it cannot be read. */
export function residentBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's VmRSS every intervalMs; keeps the maximum overall and per named phase. */
export class RssSampler {
  max = 0;
  samples = 0;
  readonly phaseMax = new Map<string, number>();
  phase = 'start';
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    const rss = residentBytes(this.pid);
    if (rss === null) return;
    this.samples++;
    this.max = Math.max(this.max, rss);
    this.phaseMax.set(this.phase, Math.max(this.phaseMax.get(this.phase) ?? 0, rss));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU milliseconds a process has used so far, or null when it cannot be read. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** CPU used by a set of processes between two readings; processes seen only at the end count from zero. */
export class CpuMeter {
  private readonly start = new Map<number, number>();

  constructor(pids: number[]) {
    for (const pid of pids) {
      const used = processCpuMs(pid);
      if (used !== null) this.start.set(pid, used);
    }
  }

  usedMs(pids: number[]): number | null {
    let total = 0;
    let readable = 0;
    for (const pid of new Set([...pids, ...this.start.keys()])) {
      const used = processCpuMs(pid);
      if (used === null) continue;
      readable++;
      total += used - (this.start.get(pid) ?? 0);
    }
    return readable > 0 ? total : null;
  }
}

// ---------------------------------------------------------------------------------------------
// Redis

export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error('INFO memory did not report used_memory');
  return Number(match[1]);
}

/** Deletes every key under `${prefix}:` (SCAN + UNLINK, bounded); returns how many. */
export async function deleteKeysUnder(redis: Redis, prefix: string, timeoutMs = 60_000): Promise<number> {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`refusing to delete keys under an unusual prefix "${prefix}"`);
  const deadline = Date.now() + timeoutMs;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) deleted += await redis.unlink(...keys);
    if (Date.now() > deadline) throw new Error(`gave up deleting the keys under ${prefix}: after ${timeoutMs / 1000} s`);
  } while (cursor !== '0');
  return deleted;
}

// ---------------------------------------------------------------------------------------------
// statistics and output

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const integer = (n: number) => Math.round(n).toLocaleString('en-US');
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** Milliseconds as "850 ms" below 10 s, else "12.3 s" (or "152 s"). */
export function duration(msValue: number): string {
  if (!Number.isFinite(msValue)) return 'n/a';
  if (Math.abs(msValue) < 10_000) return `${Math.round(msValue)} ms`;
  const s = msValue / 1000;
  return `${s < 100 ? s.toFixed(1) : Math.round(s)} s`;
}

// ---------------------------------------------------------------------------------------------
// V8 CPU profile summary

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: an npm package, a directory of the app, node itself, or V8's pseudo frames. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const app = /dist\/(src\/[^/]+|bench)\//.exec(url);
  if (app) return `app ${app[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: { name: string; ms: number }[];
  byArea: { name: string; ms: number }[];
}

export function summariseCpuProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the gap before sample i; charge it to the sample's node.
  for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    const short = f.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/').replace(/^file:\/\//, '');
    const name = f.url ? `${f.functionName || '(anonymous)'}  ${short}:${f.lineNumber + 1}` : f.functionName || '(anonymous)';
    fn.set(name, (fn.get(name) ?? 0) + us);
    const a = areaOf(f);
    area.set(a, (area.get(a) ?? 0) + us);
    total += us;
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total / 1000, byFunction: sorted(fn), byArea: sorted(area) };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL round trips, as an indicator of how busy the machine is

/** `SELECT 1` on its own connection: `burst(n)` back to back, or one every intervalMs until stopped. */
export class RoundTripProbe {
  readonly samples: number[] = [];
  private client: Client | null = null;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly url: string) {}

  private async connected(): Promise<Client> {
    if (!this.client) {
      this.client = new Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
      await this.client.connect();
    }
    return this.client;
  }

  private async once(): Promise<void> {
    const client = await this.connected();
    const started = performance.now();
    await client.query('SELECT 1');
    this.samples.push(performance.now() - started);
  }

  async burst(n: number): Promise<number[]> {
    const from = this.samples.length;
    for (let i = 0; i < n; i++) await this.once();
    return this.samples.slice(from);
  }

  start(intervalMs: number): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.once().catch(() => undefined);
        await sleep(intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }
}

