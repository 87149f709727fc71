import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { createFastService, sleep, waitUntil } from '../support/fast-sla';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, startTestApp, TEST_JWT_SECRET, withFlowerShop, type TestApp } from '../support/test-app';

// The built service (npm test builds it first), run as separate worker processes.
const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

describe('a worker killed mid-burst: the next one takes over, nothing lost, nothing doubled but the mail in flight', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  const workers: ChildProcess[] = [];

  const startWorker = () => {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        ROLE: 'worker',
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: t.database.url,
        QUEUE_PREFIX: t.queuePrefix,
        SMTP_URL: sink.url,
        RECONCILE_INTERVAL_S: '2',
        MAIL_RETRY_BASE_MS: '300',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    workers.push(child);
    return { child, output: () => output };
  };

  /** Raises `count` requests on the service, `gapMs` apart, so their deadlines spread out; their ids. */
  const raiseSpread = async (serviceId: string, count: number, gapMs: number, title: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const created = await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId, title: `${title} ${i}` });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
      await sleep(gapMs);
    }
    return ids;
  };

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startTestApp('takeover', { realTime: true, env: { SMTP_URL: sink.url } }); // ROLE=api: this process only schedules
    ({ shop, tokens } = await withFlowerShop(t));
  });
  // A test that fails half-way must not leave its worker running into the next one.
  afterEach(() => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  });
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('SIGKILL while the burst falls due, then a new worker: every warning and breach arrives, once but for the one documented window; SIGTERM drains', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-KILL', responseTarget: 'PT6S', resolutionTarget: 'PT10M' });
    const first = startWorker();
    const ids = await raiseSpread(serviceId, 30, 60, 'Burst'); // deadlines spread over ~2 s
    const expected = ids.length * 2; // response_warning at 50 %, response_breach at 100 %
    await sink.waitFor(() => sink.received.length >= 10, 20000, 'the first mails of the burst');
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const second = startWorker();
    await sink.waitFor(() => sink.received.length >= expected, 40000, 'every mail of the burst');
    await sleep(3000); // a reconciler pass later: still no second copies
    const copies = ids.flatMap((id) => ['response_warning', 'response_breach'].map((kind) => ({ id, kind, mails: sink.about(id, kind) })));
    for (const { mails } of copies) expect(mails.length).toBeGreaterThanOrEqual(1);
    // Exactly once, but for the one at-least-once window of docs/escalation.md: the killed worker had
    // written a message's end of data and not yet its "sent" mark (the kill, made when the tenth mail
    // arrives, can find the worker descheduled right there). Such a mail was in flight at the kill,
    // its second copy is the next worker's claim of it (a second attempt), and nothing else repeats.
    const twice = copies.filter(({ mails }) => mails.length > 1);
    expect(twice.length).toBeLessThanOrEqual(1);
    for (const { id, kind, mails } of twice) {
      expect(mails).toHaveLength(2);
      expect(mails[0].receivedAt).toBeLessThanOrEqual(killedAt);
      const [row] = await t.dataSource.query(`SELECT attempts, last_error FROM mail_outbox WHERE request_id = $1 AND kind = $2`, [id, kind]);
      expect(row).toEqual({ attempts: 2, last_error: null });
    }
    expect(sink.received.filter((m) => ids.includes(m.headers['x-handoff-request']))).toHaveLength(expected + twice.length);

    second.child.kill('SIGTERM');
    const [code] = (await once(second.child, 'exit')) as [number | null];
    expect(code === 0 || code === null).toBe(true);
    expect(second.output()).not.toMatch(/\n\s+at /);
  }, 90000);

  it('SIGKILL while the server holds back its refusal of a message: the mail is sent again, once', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-DOUBT', responseTarget: 'PT4S', resolutionTarget: 'PT10M' });
    // The server refuses after the data (451) from the first message on: those refusals are on record.
    sink.refuseWith = 451;
    sink.refuseAt = 'data';
    const first = startWorker();
    const ids = await raiseSpread(serviceId, 6, 200, 'Doubt');
    // Wait until the worker has recorded a refusal after the data (the sink counting one is not enough).
    const outboxHas = async (condition: string) =>
      (await t.dataSource.query(`SELECT count(*)::int AS n FROM mail_outbox WHERE request_id = ANY($1) AND ${condition}`, [ids]))[0].n > 0;
    await waitUntil(() => outboxHas('refused_after_data_at IS NOT NULL'), 20000, () => `a refusal after the data on record (the sink refused ${sink.refusedAfterData})`);
    // Then it holds its answer to the next message for seconds (a content scanner), and the worker
    // dies while it waits: the mail was marked sent at its end of data, its refusal is never read.
    sink.holdDataAnswerMs = 5000;
    let held = false;
    sink.onDataEnd = () => (held = true);
    await waitUntil(() => held, 20000, () => 'a message at its end of data');
    // Killed once its mark is committed (every other mail so far was refused: the only `sent` one),
    // long before the held answer; killed before the mark, the mail would only be a claim taken over.
    await waitUntil(() => outboxHas(`status = 'sent'`), 4000, () => 'the held mail marked sent');
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    sink.onDataEnd = null;
    sink.holdDataAnswerMs = 0;
    sink.refuseWith = null;

    const second = startWorker();
    const expected = ids.length * 2; // response_warning at 50 %, response_breach at 100 %
    await sink.waitFor(() => sink.received.filter((m) => ids.includes(m.headers['x-handoff-request'])).length >= expected, 40000, 'every mail, the one in doubt too');
    await sleep(3000); // a reconciler pass later: still no second copies
    for (const id of ids) {
      expect(sink.about(id, 'response_warning')).toHaveLength(1);
      expect(sink.about(id, 'response_breach')).toHaveLength(1);
    }
    const outbox: { status: string; refused: boolean }[] = await t.dataSource.query(
      `SELECT status, refused_after_data_at IS NOT NULL AS refused FROM mail_outbox WHERE request_id = ANY($1)`,
      [ids],
    );
    expect(outbox.filter((m) => m.status !== 'sent')).toEqual([]);
    expect(outbox.some((m) => m.refused)).toBe(true);
    // Every lane whose end of data was out when the worker died (one or more) had its mail sent again.
    expect(second.output()).toMatch(/before the SMTP server answered their end of data: [1-9]\d* sent again/);
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
  }, 90000);
});
