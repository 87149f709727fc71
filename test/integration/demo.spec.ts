import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { TEST_SERVER_URL } from '../support/database';

// `npm run demo`, non-interactively (stdout is a pipe: plain lines), at a quicker pace: one real
// second is 15 story minutes, so the story (09:00 to 15:10) takes about 25 s. npm test builds
// dist first.
const DEMO = join(__dirname, '..', '..', 'dist', 'scripts', 'demo.js');

function runDemo(env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Too slow: Ctrl-C first (the demo cleans up), then no more patience.
    const interrupt = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 15_000);
    child.on('exit', (code) => {
      clearTimeout(interrupt);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo: the flower shop story in a minute', () => {
  it('plays the story, warns both heads before 16:00 with no breach first, and cleans up after itself', async () => {
    expect(existsSync(DEMO)).toBe(true); // `npm test` builds it; with plain jest run `npm run build` first
    const server = new URL(TEST_SERVER_URL);
    server.pathname = '/handoff';
    const { code, stdout, stderr } = await runDemo(
      { DATABASE_URL: server.toString(), REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', DEMO_SECONDS_PER_HOUR: '4' },
      75_000,
    );
    const context = `exit ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
    expect({ code, context }).toMatchObject({ code: 0 });
    expect(stderr).toBe('');

    // Plain, append-only lines without colour codes when stdout is not a terminal.
    expect(stdout).not.toContain('\x1b[');
    // The hand-offs, Purchasing stalling, the chain turning at risk, who was told, the happy end.
    expect(stdout).toMatch(/09:00 .*Sales → Delivery/);
    expect(stdout).toMatch(/Design → Purchasing/);
    expect(stdout).toMatch(/10:00 .*Purchasing ⏸ waiting/);
    expect(stdout).toMatch(/Handoff: AT RISK .*the roses at Purchasing can no longer finish by 13:00/);
    expect(stdout).toMatch(/<- bottleneck/);
    expect(stdout).toMatch(/Handoff: chain_at_risk on the delivery — told Pia \(head of Purchasing\), Sam \(head of Sales\)/);
    expect(stdout).toMatch(/✉ chain_at_risk +to Pia \(head of Purchasing\), Sam \(head of Sales\)/);
    expect(stdout).toMatch(/Holding it up: "Roses for order 1604: 20 red Naomi" at Purchasing/);
    expect(stdout).toMatch(/Handoff: back on track/);
    expect(stdout).toContain('The story ran as expected');
    expect(stdout).toMatch(/✔ chain_at_risk mail to Pia \(head of Purchasing\) and Sam \(head of Sales\) arrived at \d\d:\d\d/);
    expect(stdout).toContain('✔ no breach mail before it');
    expect(stdout).toMatch(/✔ delivered at 15:\d\d, .* before the promise/);
    expect(stdout).not.toContain('✘');

    // Nothing left behind: its database is gone.
    const database = /database (handoff_demo_[0-9a-f]+) dropped/.exec(stdout)?.[1];
    expect(database).toBeDefined();
    expect(stdout).toMatch(/Redis keys handoff-demo-[0-9a-f]+:\* deleted/);
    const client = new Client({ connectionString: TEST_SERVER_URL });
    await client.connect();
    try {
      const left = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      expect(left.rowCount).toBe(0);
    } finally {
      await client.end();
    }
  }, 90_000);
});
