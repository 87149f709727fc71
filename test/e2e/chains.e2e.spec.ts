import { CHAIN_REFRESH_SECONDS } from '../../src/chains/chain.service';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { sleep } from '../support/fast-sla';
import type { SmtpSink } from '../support/smtp-sink';
import { bearer, startMailingApp, type MailingApp, type TestApp } from '../support/test-app';

const PURCHASING_HEAD = 'pia.head@flowers.example';
const SALES_HEAD = 'sam.head@flowers.example';

/**
 * The flower shop with targets of seconds: the buyer stocks roses (Purchasing, raised by Design),
 * the designer builds the bouquet (Design, raised by Sales), the courier delivers it (Delivery,
 * raised by Sales, carrying the external customer's promise). Around-the-clock calendars, so
 * business seconds are real seconds and the timers fire within the test.
 */
describe('chains: catching a break in the hand-offs before it reaches the customer', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  const services: Record<string, string> = {};

  let app: MailingApp;

  beforeAll(async () => {
    app = await startMailingApp('chains', { RECONCILE_INTERVAL_S: '2' });
    ({ t, sink, shop, tokens } = app);
    const calendar = (await t.http.post('/api/v1/calendars').set(bearer(tokens.ops)).send({ name: 'Always', timezone: 'Europe/Amsterdam', alwaysOpen: true })).body;
    const make = async (key: string, department: keyof FlowerShop['departments'], head: string, lead: string, target: string) => {
      const service = await t.http.post('/api/v1/services').set(bearer(tokens[head])).send({ departmentId: shop.departments[department].id, code: `CHAIN-${key}`, name: `Chain ${key}`, leadTime: lead });
      const agreement = await t.http
        .post('/api/v1/agreements')
        .set(bearer(tokens[head]))
        .send({ serviceId: service.body.id, responseTarget: target, resolutionTarget: target, calendarId: calendar.id, warnAtPercent: 99 });
      expect([service.status, agreement.status]).toEqual([201, 201]);
      services[key] = service.body.id;
    };
    await make('ROSES', 'PURCH', 'purchasingHead', 'PT6S', 'PT60S');
    await make('BOUQUET', 'DESIGN', 'designHead', 'PT4S', 'PT60S');
    await make('DELIVERY', 'DELIV', 'deliveryHead', 'PT2S', 'PT60S');
  });
  afterAll(() => app.close());

  const raise = async (token: string, body: Record<string, unknown>) => {
    const answer = await t.http.post('/api/v1/requests').set(bearer(token)).send(body);
    expect(answer.status).toBe(201);
    return answer.body;
  };

  /**
   * Roses → bouquet → delivery, the delivery promised `dueInSeconds` from now. Each hop is linked
   * by the department that sees both ends: Design links its bouquet to its roses order.
   */
  const chain = async (label: string, dueInSeconds: number) => {
    const roses = await raise(tokens.designer, { serviceId: services.ROSES, title: `${label}: roses` });
    const ordered = await raise(tokens.clerk, { serviceId: services.BOUQUET, title: `${label}: bouquet` });
    const linked = await t.http.post(`/api/v1/requests/${ordered.id}/dependencies`).set(bearer(tokens.designer)).send({ dependsOnId: roses.id });
    expect(linked.status).toBe(201);
    const bouquet = (await t.http.get(`/api/v1/requests/${ordered.id}`).set(bearer(tokens.clerk))).body;
    const delivery = await raise(tokens.clerk, {
      serviceId: services.DELIVERY,
      title: `${label}: delivery`,
      dependsOn: [bouquet.id],
      externalRef: `ORDER-${label}`,
      externalDueAt: new Date(Date.now() + dueInSeconds * 1000).toISOString(),
    });
    return { roses, bouquet, delivery };
  };

  it('a chain with slack raises nothing; its figures show on every request and at GET /chains/:id', async () => {
    const { roses, bouquet, delivery } = await chain('relaxed', 12 + 60 * 60);
    expect(delivery.chain.atRisk).toBe(false);
    // Its own 60 s resolution target bounds its latest finish, the hour-away promise does not.
    expect(delivery.chain.slackSeconds).toBeGreaterThan(30);
    const view = (await t.http.get(`/api/v1/chains/${bouquet.id}`).set(bearer(tokens.clerk))).body;
    expect(view.nodes.map((n: { id: string }) => n.id)).toEqual([roses.id, bouquet.id, delivery.id]);
    expect(view.links).toEqual(expect.arrayContaining([{ requestId: bouquet.id, dependsOnId: roses.id }, { requestId: delivery.id, dependsOnId: bouquet.id }]));
    expect(view.atRisk).toBe(false);
    expect(view.budget).toHaveLength(1);
    expect(view.budget[0]).toMatchObject({ promiseRequestId: delivery.id, fits: true, criticalPath: [roses.id, bouquet.id, delivery.id], totalLeadSeconds: 12 });
    const blocked = view.nodes.find((n: { id: string }) => n.id === bouquet.id);
    expect(blocked.blocked).toBe(true);
    // Roses projected 6 s out, bouquet 4 s after, delivery 2 s after that — less the second a hop
    // may have worked between being raised and being linked (clock instants are whole seconds).
    const pf = (id: string) => Date.parse(view.nodes.find((n: { id: string }) => n.id === id).projectedFinishAt);
    expect([3000, 4000]).toContain(pf(bouquet.id) - pf(roses.id));
    expect([1000, 2000]).toContain(pf(delivery.id) - pf(bouquet.id));
    // Its slack would cross zero in about an hour; its figures are refreshed well before that.
    const [{ chain_check_at: checkAt }] = await t.dataSource.query('SELECT chain_check_at FROM requests WHERE id = $1', [delivery.id]);
    expect(checkAt.getTime()).toBeGreaterThan(Date.now());
    expect(checkAt.getTime()).toBeLessThanOrEqual(Date.now() + CHAIN_REFRESH_SECONDS * 1000);
    await sleep(3000);
    expect(sink.received.filter((m) => m.headers['x-handoff-escalation'] === 'chain_at_risk' && m.subject.includes('relaxed'))).toHaveLength(0);
    expect((await t.http.get(`/api/v1/chains/${roses.id}`).set(bearer(tokens.buyer))).status).toBe(200);
    expect((await t.http.get(`/api/v1/chains/${roses.id}`).set(bearer(tokens.courier))).status).toBe(200);
  });

  it('a tight chain raises chain_at_risk to the bottleneck’s head and the promise holder’s head, before any breach and before the due time', async () => {
    const { roses, bouquet, delivery } = await chain('tight', 9); // 12 s of lead time in 9 s
    await sink.waitFor(() => sink.about(delivery.id, 'chain_at_risk').length > 0, 5000, 'chain_at_risk');
    const [mail] = sink.about(delivery.id, 'chain_at_risk');
    expect(mail.to.sort()).toEqual([PURCHASING_HEAD, SALES_HEAD]);
    expect(mail.receivedAt).toBeLessThan(Date.parse(delivery.externalDueAt));
    expect(mail.receivedAt).toBeLessThan(Date.parse(roses.respondBy)); // before any SLA breach
    expect(mail.raw).toContain('tight: roses');
    expect(mail.raw).toContain('Purchasing');
    expect(mail.raw).toMatch(/>> Purchasing/); // the bottleneck is drawn in the chain
    const view = (await t.http.get(`/api/v1/chains/${delivery.id}`).set(bearer(tokens.salesHead))).body;
    expect(view.atRisk).toBe(true);
    expect(view.bottleneckRequestId).toBe(roses.id);
    expect(view.budget[0].fits).toBe(false);
    const read = (await t.http.get(`/api/v1/requests/${bouquet.id}`).set(bearer(tokens.clerk))).body;
    expect(read.chain.atRisk).toBe(true);
    expect(read.chain.bottleneckRequestId).toBe(roses.id);
    await sleep(2500);
    expect(sink.about(delivery.id, 'chain_at_risk')).toHaveLength(1); // once per episode
    // Still at risk: the episode stays open, and its figures are looked at again later, not never.
    const [end] = await t.dataSource.query('SELECT at_risk_since, chain_check_at FROM requests WHERE id = $1', [delivery.id]);
    expect(end.at_risk_since).not.toBeNull();
    expect(end.chain_check_at.getTime()).toBeGreaterThan(Date.now());
  });

  it('a chain with two ends: only the end whose deadline is in danger is at risk and mailed', async () => {
    // The roses feed a tight delivery and, besides it, a bouquet for the shop window with a whole minute to spare.
    const roses = await raise(tokens.designer, { serviceId: services.ROSES, title: 'two ends: roses' });
    const side = await raise(tokens.clerk, { serviceId: services.BOUQUET, title: 'two ends: window bouquet' });
    expect((await t.http.post(`/api/v1/requests/${side.id}/dependencies`).set(bearer(tokens.admin)).send({ dependsOnId: roses.id })).status).toBe(201);
    const ordered = await raise(tokens.clerk, { serviceId: services.BOUQUET, title: 'two ends: bouquet' });
    expect((await t.http.post(`/api/v1/requests/${ordered.id}/dependencies`).set(bearer(tokens.designer)).send({ dependsOnId: roses.id })).status).toBe(201);
    const delivery = await raise(tokens.clerk, {
      serviceId: services.DELIVERY,
      title: 'two ends: delivery',
      dependsOn: [ordered.id],
      externalDueAt: new Date(Date.now() + 9000).toISOString(), // 12 s of lead time in 9 s
    });
    await sink.waitFor(() => sink.about(delivery.id, 'chain_at_risk').length > 0, 5000, 'chain_at_risk on the delivery');
    await sleep(1500);
    expect(sink.about(delivery.id, 'chain_at_risk')).toHaveLength(1);
    expect(sink.about(side.id, 'chain_at_risk')).toHaveLength(0);
    const [sideRow] = await t.dataSource.query('SELECT at_risk_since FROM requests WHERE id = $1', [side.id]);
    expect(sideRow.at_risk_since).toBeNull();
  });

  it('time alone turns a chain at risk: the moment slack crosses zero is a timer', async () => {
    const { roses, delivery } = await chain('drifting', 16); // 4 s of slack, but the buyer never starts
    const hold = await t.http.post(`/api/v1/requests/${roses.id}/transitions`).set(bearer(tokens.buyer)).send({ to: 'acknowledged', version: roses.version });
    const waiting = await t.http.post(`/api/v1/requests/${roses.id}/transitions`).set(bearer(tokens.buyer)).send({ to: 'in_progress', version: hold.body.version });
    await t.http.post(`/api/v1/requests/${roses.id}/transitions`).set(bearer(tokens.buyer)).send({ to: 'waiting_on_customer', version: waiting.body.version });
    expect(sink.about(delivery.id, 'chain_at_risk')).toHaveLength(0);
    await sink.waitFor(() => sink.about(delivery.id, 'chain_at_risk').length > 0, 12000, 'the slip');
    expect(sink.about(delivery.id, 'chain_at_risk')[0].receivedAt).toBeLessThan(Date.parse(delivery.externalDueAt));
  });

  it('blocked time lands on the upstream department, and resolving the upstream request unblocks the clock', async () => {
    const { roses, bouquet } = await chain('blocked', 3600);
    await sleep(1500);
    let r = (await t.http.get(`/api/v1/requests/${roses.id}`).set(bearer(tokens.buyer))).body;
    r = (await t.http.post(`/api/v1/requests/${roses.id}/transitions`).set(bearer(tokens.buyer)).send({ to: 'resolved', version: r.version })).body;
    expect(r.status).toBe('resolved');
    const pauses = await t.dataSource.query(
      `SELECT p.reason, p.ended_at IS NOT NULL AS ended, s.department_id, extract(epoch FROM p.ended_at - p.started_at) AS seconds
         FROM request_pauses p JOIN requests u ON u.id = p.blocking_request_id JOIN services s ON s.id = u.service_id
        WHERE p.request_id = $1`,
      [bouquet.id],
    );
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toMatchObject({ reason: 'blocked', ended: true, department_id: shop.departments.PURCH.id });
    expect(Number(pauses[0].seconds)).toBeGreaterThanOrEqual(1);
    const after = (await t.http.get(`/api/v1/requests/${bouquet.id}`).set(bearer(tokens.clerk))).body;
    expect(after.paused).toBe(false);
    expect(after.pausedSeconds).toBe(Number(pauses[0].seconds));
    expect(Date.parse(after.resolveBy) - Date.parse(bouquet.resolveBy)).toBe(after.pausedSeconds * 1000);
  });

  it('refuses a link that would close a cycle', async () => {
    const { roses, delivery } = await chain('cycle', 3600);
    // No department is party to both the roses and the delivery: the designer cannot even name it; admin can.
    expect((await t.http.post(`/api/v1/requests/${roses.id}/dependencies`).set(bearer(tokens.designer)).send({ dependsOnId: delivery.id })).status).toBe(404);
    const answer = await t.http.post(`/api/v1/requests/${roses.id}/dependencies`).set(bearer(tokens.admin)).send({ dependsOnId: delivery.id });
    expect(answer.status).toBe(409);
    expect(answer.body.message).toMatch(/cycle/);
    const links = (await t.http.get(`/api/v1/chains/${roses.id}`).set(bearer(tokens.designer))).body.links;
    expect(links).toHaveLength(2);
  });

  it("a service's new lead time reaches the open chains through it at once", async () => {
    const { roses, delivery } = await chain('longer roses', 60); // 12 s of lead time in 60 s
    const before = (await t.http.get(`/api/v1/requests/${roses.id}`).set(bearer(tokens.designer))).body.chain;
    expect(before.atRisk).toBe(false);
    const changed = await t.http.patch(`/api/v1/services/${services.ROSES}`).set(bearer(tokens.purchasingHead)).send({ leadTime: 'PT90S' });
    expect(changed.status).toBe(200);
    try {
      const after = (await t.http.get(`/api/v1/requests/${roses.id}`).set(bearer(tokens.designer))).body.chain;
      expect(after.atRisk).toBe(true); // 90 + 4 + 2 s of work left for a promise 60 s away
      expect(Date.parse(after.projectedFinishAt)).toBeGreaterThan(Date.parse(before.projectedFinishAt) + 80_000);
      await sink.waitFor(() => sink.about(delivery.id, 'chain_at_risk').length === 1, 5000, 'chain_at_risk after the lead time changed');
    } finally {
      await t.http.patch(`/api/v1/services/${services.ROSES}`).set(bearer(tokens.purchasingHead)).send({ leadTime: 'PT6S' });
    }
  });
});
