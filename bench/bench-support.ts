// Helpers for the HTTP benchmarks: a throw-away database, child processes on loopback ports,
// a typed autocannon call, and a plain-text table.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

export const LOOPBACK = '127.0.0.1';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

// ---------------------------------------------------------------------------------------------
// autocannon (no type definitions are installed; these are the parts the benchmarks use)

export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  onResponse?: (status: number, body: string | Buffer, context: Record<string, unknown>) => void;
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  timeout?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  requests?: AutocannonRequest[];
}

export interface AutocannonHistogram {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p97_5: number;
  p99: number;
}

export interface AutocannonResult {
  latency: AutocannonHistogram;
  requests: AutocannonHistogram & { total: number; sent: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
}

type AutocannonFn = (options: AutocannonOptions, done: (error: Error | null, result: AutocannonResult) => void) => unknown;

const requireFromHere = createRequire(__filename);

export function runAutocannon(options: AutocannonOptions): Promise<AutocannonResult> {
  const autocannon = requireFromHere('autocannon') as AutocannonFn;
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

// ---------------------------------------------------------------------------------------------
// database

/** A fresh database on the given server (the URL names any existing database, e.g. /postgres). */
export class ThrowAwayDatabase {
  readonly name: string;
  readonly url: string;
  private created = false;

  constructor(
    private readonly serverUrl: string,
    prefix: string,
  ) {
    const server = new URL(serverUrl);
    if (!LOOPBACK_HOSTS.has(server.hostname)) {
      throw new Error(`The benchmark only uses a loopback database server; got host "${server.hostname}"`);
    }
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
    const client = new Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  private async admin(sql: string): Promise<void> {
    const client = new Client({ connectionString: this.serverUrl, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// child processes

/** A port the OS had free a moment ago on the loopback interface. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (!address || typeof address === 'string') throw new Error('could not read the port the OS gave');
  return address.port;
}

/**
 * Written to a temporary file and preloaded with --require: CPU-profiles the process between a
 * 'profile-start' and a 'profile-stop' message on the IPC channel (Nest's shutdown hooks own the
 * usual signals, SIGUSR2 included). The channel is unref'd so it never keeps the process alive.
 */
const PROFILE_HOOK = `
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const session = new Session();
session.connect();
const post = (method, params) => new Promise((ok, fail) => session.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
process.channel && process.channel.unref();
process.on('message', async (message) => {
  try {
    if (message === 'profile-start') {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 500 });
      await post('Profiler.start');
      process.send('profile-started');
    } else if (message === 'profile-stop') {
      const { profile } = await post('Profiler.stop');
      writeFileSync(process.env.BENCH_PROFILE_FILE, JSON.stringify(profile));
      process.send('profile-written');
    }
  } catch (error) {
    process.send('profile-failed: ' + error.message);
  }
});
`;

export function writeProfileHook(directory: string): string {
  const file = join(directory, 'bench-profile-hook.js');
  writeFileSync(file, PROFILE_HOOK);
  return file;
}

export class ChildServer {
  private readonly output: string[] = [];
  private readonly messages: string[] = [];
  private exited = false;
  readonly exit: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly label: string,
    script: string,
    env: Record<string, string>,
    nodeArgs: string[] = [],
    cwd?: string,
    ipc = false,
  ) {
    const stdio: StdioOptions = ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
    this.child = spawn(process.execPath, [...nodeArgs, script], { env, cwd, stdio });
    this.child.channel?.unref();
    this.child.on('message', (message) => this.messages.push(String(message)));
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) this.output.push(line);
      }
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
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

  /** The last lines the child printed, for a failure message. */
  tail(lines = 20): string {
    return this.output.slice(-lines).join('\n');
  }

  signal(name: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(name);
  }

  /** Sends a message on the IPC channel and waits (bounded) for an answer starting with one of answers. */
  async ask(message: string, answers: string[], timeoutMs = 15_000): Promise<string> {
    if (!this.child.send) return 'no IPC channel';
    const seen = this.messages.length;
    this.child.send(message);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.exited) {
      const reply = this.messages.slice(seen).find((m) => answers.some((a) => m.startsWith(a)) || m.startsWith('profile-failed'));
      if (reply) return reply;
      await sleep(50);
    }
    return `no answer to ${message}`;
  }

  /** Polls url until it answers 200, the child exits, or the time runs out (bounded). */
  async waitUntilReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.label} exited before it was ready:\n${this.tail()}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${this.label} was not ready at ${url} within ${timeoutMs / 1000} s:\n${this.tail()}`);
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
// CPU accounting (Linux /proc; elsewhere the figures are missing, never wrong)

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU milliseconds a process has used so far, or null when it cannot be read. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
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
// output

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const integer = (n: number) => Math.round(n).toLocaleString('en-US');
export const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
