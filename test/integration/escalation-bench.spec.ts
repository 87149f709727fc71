import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

// The built bench (npm test builds bench/ with the service), at a size that runs in about half a minute.
const BENCH = join(__dirname, '..', '..', 'dist', 'bench', 'escalation.bench.js');

/**
 * `npm run bench:escalation` must keep running end to end: it starts a real worker process and
 * waits for its start line, so a change to the worker's logging once left it waiting in vain.
 * Figures are not judged here (timed assertions do not belong in tests, and a small burst says
 * nothing about Redis per timer); what is: every burst request mailed once, and everything the
 * bench made removed again.
 */
describe('npm run bench:escalation, small', () => {
  it('runs a worker through a small burst: every mail once, its database and Redis keys removed', async () => {
    const bench = spawn(process.execPath, [BENCH], {
      env: { ...process.env, BENCH_OPEN_REQUESTS: '200', BENCH_BURST: '20', BENCH_GIVE_UP_S: '30' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    bench.stdout!.on('data', (d) => (output += d));
    bench.stderr!.on('data', (d) => (output += d));
    await once(bench, 'exit');

    expect(output).not.toContain('bench:escalation failed');
    expect(output).toMatch(/^burst requests mailed within 30 s of the first deadline +20 +OK$/m);
    expect(output).toMatch(/^duplicated \(second mail for the same request\) +0 +OK$/m);
    expect(output).toMatch(/^no mail lost, failed, duplicated or stray +none +PASS$/m);
    expect(output).toMatch(/^cleaned up: Redis keys under bench-esc-[0-9a-f]+: [\d,]+ deleted; database handoff_bench_esc_[0-9a-f]+ dropped$/m);
  }, 120_000);
});
