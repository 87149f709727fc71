import type { FlowerShop } from '../../src/demo/flower-shop';
import { csvRecords, FlowerDesk, type Raised } from '../support/report-fixtures';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

/*
 * Thursday 2026-12-03 (Amsterdam, UTC+1). Sales promises ORDER-1042 to an external customer for
 * 14:30Z. Delivery's run (D) waits on Design's bouquet (B), which waits on Purchasing's roses (R).
 *   08:00Z  R, B and D raised; D depends on B, B on R: chains record B blocked by R and D blocked by B
 *   13:00Z  R resolved — late (due 12:00Z: 09:00–13:00 local is its four auction hours)
 *   14:00Z  B resolved (its clock stood still while blocked: on time)
 *   15:30Z  D resolved — an hour after the promise
 * Root cause, elapsed time: R's late life 08:00–13:00 is Purchasing's own (5 h). D's life 08:00–15:30
 * is 6 h blocked by B, of which B itself was blocked by R 08:00–13:00: 5 h to Purchasing, 1 h to
 * Design, and 1.5 h unblocked to Delivery. Main cause of D: Purchasing.
 */
describe('root cause, at-risk list and escalation log on a chain that broke its promise', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let desk: FlowerDesk;
  let roses: Raised;
  let bouquet: Raised;
  let delivery: Raised;

  beforeAll(async () => {
    t = await startTestApp('reports_chains');
    ({ shop, tokens } = await withFlowerShop(t));
    desk = new FlowerDesk(t, shop, tokens);
    desk.at('2026-12-03T08:00:00Z');
    roses = await desk.raise('designer', 'roses');
    bouquet = await desk.raise('clerk', 'bouquet');
    delivery = await desk.raise('clerk', 'delivery', { dependsOn: [bouquet.id], externalRef: 'ORDER-1042', externalDueAt: '2026-12-03T14:30:00Z' });
    await desk.link('designer', bouquet, roses);
    desk.at('2026-12-03T08:05:00Z');
    await desk.move('buyer', roses, 'acknowledged');
    await desk.move('designer', bouquet, 'acknowledged');
    await desk.move('courier', delivery, 'acknowledged');
    t.clock.set('2026-12-03T08:10:00Z');
  });
  afterAll(() => t.close());

  const get = async (path: string, token = tokens.ops) => {
    const answer = await t.http.get(`/api/v1/reports/${path}`).set(bearer(token));
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200 });
    return answer.body;
  };

  it('lists open chained requests by slack, least first, for those who may see them', async () => {
    const all = await get('at-risk');
    const ids = all.items.map((i: { id: string }) => i.id);
    expect(new Set(ids)).toEqual(new Set([roses.id, bouquet.id, delivery.id]));
    const slacks = all.items.map((i: { slackSeconds: number }) => i.slackSeconds);
    expect(slacks).toEqual([...slacks].sort((a, b) => a - b));
    const end = all.items.find((i: { id: string }) => i.id === delivery.id);
    expect(end).toMatchObject({
      title: 'delivery for clerk',
      status: 'acknowledged',
      provider: { id: shop.departments.DELIV.id, code: 'DELIV', name: 'Delivery' },
      customer: { code: 'SALES' },
      service: { id: shop.services.delivery.id, code: 'DELIVERY' },
      externalRef: 'ORDER-1042',
      externalDueAt: '2026-12-03T14:30:00.000Z',
    });
    // The request row itself says the same.
    const request = await t.http.get(`/api/v1/requests/${delivery.id}`).set(bearer(tokens.ops));
    expect(end.slackSeconds).toBe(request.body.chain.slackSeconds);
    expect(end.atRisk).toBe(request.body.chain.atRisk);

    const onlyAtRisk = await get('at-risk?onlyAtRisk=true');
    expect(onlyAtRisk.items.every((i: { atRisk: boolean }) => i.atRisk)).toBe(true);
    expect(onlyAtRisk.items.map((i: { id: string }) => i.id)).toEqual(all.items.filter((i: { atRisk: boolean }) => i.atRisk).map((i: { id: string }) => i.id));

    // Keyset pages of one.
    const first = await get('at-risk?limit=1');
    expect(first.items.map((i: { id: string }) => i.id)).toEqual(ids.slice(0, 1));
    const second = await get(`at-risk?limit=1&cursor=${first.nextCursor}`);
    expect(second.items.map((i: { id: string }) => i.id)).toEqual(ids.slice(1, 2));
    expect((await t.http.get('/api/v1/reports/at-risk?cursor=bm90LWEtY3Vyc29y').set(bearer(tokens.ops))).status).toBe(400);

    // Heads: requests their department is party to.
    const visible = async (token: string) => new Set((await get('at-risk', token)).items.map((i: { id: string }) => i.id));
    expect(await visible(tokens.purchasingHead)).toEqual(new Set([roses.id]));
    expect(await visible(tokens.designHead)).toEqual(new Set([roses.id, bouquet.id]));
    expect(await visible(tokens.salesHead)).toEqual(new Set([bouquet.id, delivery.id]));
    expect(await visible(tokens.deliveryHead)).toEqual(new Set([delivery.id]));
  });

  it('shows the at-risk count in the SLA report while the chain is at risk', async () => {
    const atRiskIds = (await get('at-risk?onlyAtRisk=true')).items.map((i: { provider: { code: string } }) => i.provider.code);
    expect(atRiskIds.length).toBeGreaterThan(0);
    const report = await get('sla?from=2026-12-03&to=2026-12-04&groupBy=provider');
    const counted = Object.fromEntries(report.rows.map((r: { group: { code: string }; atRisk: number }) => [r.group.code, r.atRisk]));
    const expected: Record<string, number> = { PURCH: 0, DESIGN: 0, DELIV: 0 };
    for (const code of atRiskIds) expected[code]++;
    expect(counted).toEqual(expected);
  });

  it('logs the escalations fired, newest first, limited like the rest', async () => {
    const log = await get('escalations');
    expect(log.items.length).toBeGreaterThan(0);
    expect(log.items[0]).toMatchObject({ kind: 'chain_at_risk', requestId: delivery.id, requestTitle: 'delivery for clerk', provider: { code: 'DELIV' }, customer: { code: 'SALES' } });
    expect(log.items[0].recipients.length).toBeGreaterThan(0);
    expect((await get('escalations', tokens.deliveryHead)).items.map((e: { id: string }) => e.id)).toEqual(log.items.map((e: { id: string }) => e.id));
    expect((await get('escalations', tokens.purchasingHead)).items).toEqual(
      log.items.filter((e: { provider: { code: string }; customer: { code: string } }) => [e.provider.code, e.customer.code].includes('PURCH')),
    );
    expect((await get(`escalations?before=${log.items[0].firedAt}`)).items.every((e: { firedAt: string }) => e.firedAt < log.items[0].firedAt)).toBe(true);
  });

  it('charges the late delivery to Purchasing, whose roses held up the bouquet that held up the delivery', async () => {
    await desk.at('2026-12-03T13:00:00Z').move('buyer', roses, 'resolved');
    await desk.at('2026-12-03T14:00:00Z').move('designer', bouquet, 'resolved');
    await desk.at('2026-12-03T15:30:00Z').move('courier', delivery, 'resolved');
    t.clock.set('2026-12-03T16:00:00Z');

    const report = await get('root-cause?from=2026-12-03&to=2026-12-04');
    expect(report).toMatchObject({ from: '2026-12-03T00:00:00.000Z', to: '2026-12-04T00:00:00.000Z', asOf: '2026-12-03T16:00:00.000Z', incidents: 2 });
    const rows = (report.rows as RootCauseRow[]).map(summary).sort((a, b) => a.key.localeCompare(b.key));
    expect(rows).toEqual([
      { key: 'DELIV<-DELIV', ownDelay: true, incidents: 0, lateRequests: 0, lateExternalPromises: 0, chargedSeconds: 5400, examples: [] },
      { key: 'DESIGN<-DELIV', ownDelay: false, incidents: 0, lateRequests: 0, lateExternalPromises: 0, chargedSeconds: 3600, examples: [] },
      { key: 'PURCH<-DELIV', ownDelay: false, incidents: 1, lateRequests: 0, lateExternalPromises: 1, chargedSeconds: 18000, examples: [delivery.id] },
      { key: 'PURCH<-PURCH', ownDelay: true, incidents: 1, lateRequests: 1, lateExternalPromises: 0, chargedSeconds: 18000, examples: [roses.id] },
    ]);
    // Most incidents first.
    expect(report.rows.slice(0, 2).map((r: RootCauseRow) => r.incidents)).toEqual([1, 1]);

    const keys = async (token: string) => ((await get('root-cause?from=2026-12-03&to=2026-12-04', token)).rows as RootCauseRow[]).map(summary).sort((a, b) => a.key.localeCompare(b.key));
    expect((await keys(tokens.deliveryHead)).map((r) => r.key)).toEqual(['DELIV<-DELIV', 'DESIGN<-DELIV', 'PURCH<-DELIV']);
    expect(await keys(tokens.purchasingHead)).toEqual([
      // The late delivery is not Purchasing's request: the row, but not the request id.
      { key: 'PURCH<-DELIV', ownDelay: false, incidents: 1, lateRequests: 0, lateExternalPromises: 1, chargedSeconds: 18000, examples: [] },
      { key: 'PURCH<-PURCH', ownDelay: true, incidents: 1, lateRequests: 1, lateExternalPromises: 0, chargedSeconds: 18000, examples: [roses.id] },
    ]);
    expect(await keys(tokens.salesHead)).toEqual([]);

    const csv = await t.http.get('/api/v1/reports/root-cause?from=2026-12-03&to=2026-12-04&format=csv').set(bearer(tokens.ops));
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(
      csvRecords(csv.text)
        .map((r) => `${r.causedByCode}<-${r.delayedCode} ${r.ownDelay} ${r.incidents} ${r.lateRequests} ${r.lateExternalPromises} ${r.chargedSeconds}`)
        .sort(),
    ).toEqual(['DELIV<-DELIV true 0 0 0 5400', 'DESIGN<-DELIV false 0 0 0 3600', 'PURCH<-DELIV false 1 0 1 18000', 'PURCH<-PURCH true 1 1 0 18000']);

    // Nothing open in the chain any more.
    expect((await get('at-risk')).items).toEqual([]);
  });
});

interface RootCauseRow {
  causedBy: { code: string };
  delayed: { code: string };
  ownDelay: boolean;
  incidents: number;
  lateRequests: number;
  lateExternalPromises: number;
  chargedSeconds: number;
  exampleRequestIds: string[];
}

function summary(r: RootCauseRow) {
  return {
    key: `${r.causedBy.code}<-${r.delayed.code}`,
    ownDelay: r.ownDelay,
    incidents: r.incidents,
    lateRequests: r.lateRequests,
    lateExternalPromises: r.lateExternalPromises,
    chargedSeconds: r.chargedSeconds,
    examples: r.exampleRequestIds,
  };
}
