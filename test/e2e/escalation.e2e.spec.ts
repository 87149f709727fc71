import Redis from 'ioredis';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { createFastService, sleep } from '../support/fast-sla';
import type { SmtpSink } from '../support/smtp-sink';
import { bearer, startMailingApp, type MailingApp, type TestApp } from '../support/test-app';

const DESIGN_HEAD = 'dana.head@flowers.example';

describe('escalations at the deadline, by mail, exactly once', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let shop: FlowerShop;
  let tokens: Record<string, string>;

  let app: MailingApp;

  beforeAll(async () => {
    app = await startMailingApp('escalation', {
      RECONCILE_INTERVAL_S: '1',
      MAIL_RETRY_BASE_MS: '100',
      MAIL_RETRY_MAX_MS: '400',
      PUBLIC_URL: 'https://handoff.flowers.example',
    });
    ({ t, sink, shop, tokens } = app);
  });
  afterAll(() => app.close());

  const raise = async (serviceId: string, title: string) => {
    const answer = await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId, title });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const read = async (id: string) => (await t.http.get(`/api/v1/requests/${id}`).set(bearer(tokens.clerk))).body;
  const move = async (id: string, to: string, token = tokens.designer) => {
    const current = await read(id);
    const answer = await t.http.post(`/api/v1/requests/${id}/transitions`).set(bearer(token)).send({ to, version: current.version });
    expect(answer.status).toBe(200);
    return answer.body;
  };

  it('warns the provider head while nobody is assigned, then mails the breach to the head once, on time', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-BREACH', responseTarget: 'PT2S', resolutionTarget: 'PT30S' });
    const request = await raise(serviceId, 'Nobody picks this up');
    const respondBy = Date.parse(request.respondBy);
    await sink.waitFor(() => sink.about(request.id, 'response_breach').length > 0, 10000, 'the response breach');
    const [warning] = sink.about(request.id, 'response_warning');
    const [breach] = sink.about(request.id, 'response_breach');
    expect(warning.to).toEqual([DESIGN_HEAD]);
    expect(breach.to).toEqual([DESIGN_HEAD]);
    expect(breach.receivedAt).toBeGreaterThanOrEqual(respondBy);
    expect(breach.receivedAt - respondBy).toBeLessThan(2000);
    expect(warning.receivedAt).toBeLessThan(breach.receivedAt);
    expect(breach.subject).toContain(request.id);
    expect(breach.headers['x-handoff-request']).toBe(request.id);
    expect(breach.raw).toContain('Design (DESIGN)');
    expect(breach.raw).toContain('Sales (SALES)');
    expect(breach.raw).toContain(`https://handoff.flowers.example/api/v1/requests/${request.id}`);
    expect(breach.raw).toContain(new Date(respondBy).toISOString());

    await sleep(1500); // a reconciler pass or two: still exactly one of each
    expect(sink.about(request.id, 'response_breach')).toHaveLength(1);
    expect(sink.about(request.id, 'response_warning')).toHaveLength(1);
    const now = await read(request.id);
    expect(now.breached.response).toBe(true);
    expect(now.escalationLevel).toBe(1);
    const events = (await t.http.get(`/api/v1/requests/${request.id}/events`).set(bearer(tokens.clerk))).body.items as { type: string; after: { kind: string } }[];
    expect(events.filter((e) => e.type === 'breached').map((e) => e.after.kind)).toEqual(['response_breach']);
  });

  it('acknowledging in time prevents the response breach; the assignee gets the resolution warning', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-ACK', responseTarget: 'PT2S', resolutionTarget: 'PT4S' });
    const request = await raise(serviceId, 'Picked up at once');
    await move(request.id, 'acknowledged');
    const assigned = await t.http.patch(`/api/v1/requests/${request.id}`).set(bearer(tokens.designHead)).send({ assigneeId: shop.users.designer.id, version: (await read(request.id)).version });
    expect(assigned.status).toBe(200);
    await sink.waitFor(() => sink.about(request.id, 'resolution_breach').length > 0, 10000, 'the resolution breach');
    expect(sink.about(request.id, 'response_breach')).toHaveLength(0);
    expect(sink.about(request.id, 'response_warning')).toHaveLength(0);
    expect(sink.about(request.id, 'resolution_warning').map((m) => m.to)).toEqual([['dan.designer@flowers.example']]);
    expect(sink.about(request.id, 'resolution_breach').map((m) => m.to)).toEqual([[DESIGN_HEAD]]);
  });

  it('a pause moves the resolution timers out, and a resolved request sends nothing more', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-PAUSE', responseTarget: 'PT3S', resolutionTarget: 'PT3S', warnAtPercent: 99 });
    const request = await raise(serviceId, 'Waits on the clerk');
    await move(request.id, 'acknowledged');
    await move(request.id, 'in_progress');
    await move(request.id, 'waiting_on_customer');
    await sleep(3500); // past the original resolveBy while paused
    expect(sink.about(request.id)).toHaveLength(0);
    const resumed = await move(request.id, 'in_progress', tokens.clerk);
    const resolveBy = Date.parse(resumed.resolveBy);
    expect(resolveBy).toBeGreaterThanOrEqual(Date.parse(request.resolveBy) + 3000); // pause instants count in whole seconds
    await sink.waitFor(() => sink.about(request.id, 'resolution_breach').length > 0, 10000, 'the moved resolution breach');
    expect(sink.about(request.id, 'resolution_breach')[0].receivedAt).toBeGreaterThanOrEqual(resolveBy);

    const quick = await raise(serviceId, 'Resolved in time');
    await move(quick.id, 'resolved');
    await sleep(3500);
    expect(sink.about(quick.id)).toHaveLength(0);
  });

  it('levels go to their notify: ladder, customer head and ops', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, {
      code: 'FAST-LEVELS',
      responseTarget: 'PT1S',
      resolutionTarget: 'PT2S',
      escalations: [
        { atPercent: 100, notify: 'ladder' },
        { atPercent: 150, notify: 'customer_head' },
        { atPercent: 200, notify: 'ops' },
      ],
    });
    const request = await raise(serviceId, 'Climbs the ladder');
    await sink.waitFor(() => sink.about(request.id, 'level-3').length > 0, 10000, 'level 3');
    expect(sink.about(request.id, 'level-1').map((m) => m.to)).toEqual([['owner@flowers.example']]);
    expect(sink.about(request.id, 'level-2').map((m) => m.to)).toEqual([['sam.head@flowers.example']]);
    expect(sink.about(request.id, 'level-3').map((m) => m.to)).toEqual([['ops@flowers.example']]);
    expect((await read(request.id)).escalationLevel).toBe(5); // two breaches and three levels
  });

  it("warning and level mails name the target's own deadline and the time left before it or past it", async () => {
    const { serviceId } = await createFastService(t, shop, tokens, {
      code: 'FAST-WORDS',
      responseTarget: 'PT4S',
      resolutionTarget: 'PT6S',
      warnAtPercent: 50,
      escalations: [
        { atPercent: 50, notify: 'ops' },
        { atPercent: 150, notify: 'ops' },
      ],
    });
    const request = await raise(serviceId, 'Told how long is left');
    await sink.waitFor(() => sink.about(request.id, 'level-2').length > 0, 15000, 'level 2');
    const deadline = (kind: string) => sink.about(request.id, kind)[0].raw.match(/Deadline: .* \((\S+)\)/)?.[1];
    const timing = (kind: string) => sink.about(request.id, kind)[0].raw.match(/\n(.*(?:left before|past) the deadline|The deadline is now).*\(as of /)?.[1];
    expect(deadline('response_warning')).toBe(request.respondBy); // not the warning's own instant, 2 s earlier
    expect(timing('response_warning')).toMatch(/^[1-3] s left before the deadline$/);
    expect(deadline('response_breach')).toBe(request.respondBy);
    expect(deadline('level-1')).toBe(request.resolveBy); // at 50 %: 3 s before resolveBy
    expect(timing('level-1')).toMatch(/^[2-4] s left before the deadline$/);
    expect(deadline('resolution_breach')).toBe(request.resolveBy);
    expect(deadline('level-2')).toBe(request.resolveBy); // at 150 %: 3 s after it
    expect(timing('level-2')).toMatch(/^[2-4] s past the deadline$/);
  });

  // A refusal at MAIL FROM or RCPT TO (greylisting, a rate limit) used to stop its lane for good.
  it.each(['data', 'mail', 'rcpt'] as const)('SMTP refusing for a while (451 at %s): every mail arrives once after it returns', async (at) => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: `FAST-SMTP-${at}`, responseTarget: 'PT1S', resolutionTarget: 'PT60S' });
    sink.refuseAt = at;
    sink.refuseWith = 451;
    const requests = await Promise.all([1, 2, 3, 4, 5].map((i) => raise(serviceId, `Sent while SMTP is down ${i}`)));
    await sleep(2500);
    expect(requests.flatMap((r) => sink.about(r.id))).toHaveLength(0);
    const outbox = await t.dataSource.query(`SELECT count(*)::int AS n, max(attempts)::int AS attempts FROM mail_outbox WHERE request_id = ANY($1)`, [requests.map((r) => r.id)]);
    expect(outbox[0].n).toBe(10);
    expect(outbox[0].attempts).toBeGreaterThan(1);
    sink.refuseWith = null;
    sink.refuseAt = 'data';
    await sink.waitFor(() => requests.every((r) => sink.about(r.id).length === 2), 15000, 'the held-back mail');
    await sleep(1500);
    for (const r of requests) {
      expect(sink.about(r.id, 'response_warning')).toHaveLength(1);
      expect(sink.about(r.id, 'response_breach')).toHaveLength(1);
    }
  });

  it.each(['data', 'mail', 'rcpt'] as const)('a permanent SMTP refusal (550 at %s) is recorded and visible, not retried; the next mail goes out', async (at) => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: `FAST-550-${at}`, responseTarget: 'PT1S', resolutionTarget: 'PT60S', warnAtPercent: 99 });
    sink.refuseAt = at;
    sink.refuseWith = 550;
    const request = await raise(serviceId, 'Nobody can receive this');
    const waitForFailed = async () => {
      for (let i = 0; i < 200; i++) {
        const rows = await t.dataSource.query(`SELECT status, attempts, last_error FROM mail_outbox WHERE request_id = $1 AND status = 'failed'`, [request.id]);
        if (rows.length === 2) return rows;
        await sleep(50);
      }
      throw new Error('mail never marked failed');
    };
    const rows = await waitForFailed();
    sink.refuseWith = null;
    sink.refuseAt = 'data';
    await sleep(1500);
    expect(rows.map((r: { attempts: number }) => r.attempts)).toEqual([1, 1]);
    expect(rows[0].last_error).toMatch(/^refused: /);
    expect(sink.about(request.id)).toHaveLength(0);
    // The lanes that met the refusal still send.
    const next = await raise(serviceId, 'Receivable again');
    await sink.waitFor(() => sink.about(next.id).length === 2, 15000, 'the mail after the refusal');
  });

  it('one recipient refused while the others take the mail: sent once to them, the refusal kept on the outbox row', async () => {
    const gone = 'olaf.ops@flowers.example';
    const second = await t.http
      .post('/api/v1/users')
      .set(bearer(tokens.admin))
      .send({ email: gone, name: 'Olaf, ops (left the company)', password: 'correct-horse-battery', role: 'ops' });
    expect(second.status).toBe(201);
    sink.unknownMailboxes.add(gone);
    try {
      // The level falls due 8 s on: past the 5 s for which a worker keeps the list of ops addresses.
      const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-PART', responseTarget: 'PT1S', resolutionTarget: 'PT8S', escalations: [{ atPercent: 100, notify: 'ops' }] });
      const request = await raise(serviceId, 'Ops told, one address gone');
      await sink.waitFor(() => sink.about(request.id, 'level-1').length === 1, 20000, 'the level-1 mail');
      await sleep(1000);
      expect(sink.about(request.id, 'level-1').map((m) => m.to)).toEqual([['ops@flowers.example']]);
      const rows = await t.dataSource.query(`SELECT status, last_error FROM mail_outbox WHERE request_id = $1 AND kind = 'level-1'`, [request.id]);
      expect(rows).toEqual([{ status: 'sent', last_error: expect.stringMatching(/^sent, but refused for olaf\.ops@flowers\.example \(550/) }]);
    } finally {
      sink.unknownMailboxes.delete(gone);
      await t.http.patch(`/api/v1/users/${second.body.id}`).set(bearer(tokens.admin)).send({ active: false });
    }
  });

  it('Redis keys of the queues wiped while timers are pending: every mail still arrives, once', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-WIPE', responseTarget: 'PT3S', resolutionTarget: 'PT60S' });
    const requests = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => raise(serviceId, `Survives a Redis wipe ${i}`)));
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const keys = await redis.keys(`${t.queuePrefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    redis.disconnect();
    await sink.waitFor(() => requests.every((r) => sink.about(r.id, 'response_breach').length === 1 && sink.about(r.id, 'response_warning').length === 1), 15000, 'mail after the wipe');
    await sleep(2000);
    for (const r of requests) expect(sink.about(r.id)).toHaveLength(2);
  });

  it('the escalation log pages one at a time without losing escalations fired at the same instant', async () => {
    const get = async (query: string) => {
      const answer = await t.http.get(`/api/v1/reports/escalations?${query}`).set(bearer(tokens.ops));
      expect(answer.status).toBe(200);
      return answer.body as { items: { id: string; firedAt: string }[]; nextCursor: string | null };
    };
    const all = (await get('limit=200')).items;
    expect(new Set(all.map((e) => e.firedAt)).size).toBeLessThan(all.length); // a sweep records several at one instant
    const paged: string[] = [];
    for (let cursor: string | null = null, pages = 0; pages === 0 || cursor; pages++) {
      const page = await get(`limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      expect(pages).toBeLessThanOrEqual(all.length);
    }
    expect(paged).toEqual(all.map((e) => e.id));
  });
});
