import type { FlowerShop } from '../../src/demo/flower-shop';
import { FlowerDesk, type Raised } from '../support/report-fixtures';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

interface Row {
  id: string;
  slackSeconds: number;
  atRisk: boolean;
}
interface ChainRow extends Row {
  atRiskSince: string | null;
  openRequests: number;
  tightestRequestId: string;
  bottleneckRequestId: string | null;
  externalRef: string | null;
}

/*
 * Thursday 2026-12-03, 08:00Z (Amsterdam 09:00). Two chains and a request in none:
 *   tight: roses R1 <- bouquet B1 <- delivery D1, promised to ORDER-7 for 10:00Z today (cannot be met)
 *   loose: bouquet B2 alone, promised to ORDER-8 for a week later (a chain of one: it carries a promise)
 *   lone:  a bouquet nobody waits on, with no promise: no chain row, no slack
 * The SPEC's at-risk report lists open requests and chains by slack: one chain row per end.
 */
describe('the at-risk report lists chains beside requests', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let desk: FlowerDesk;
  let r1: Raised;
  let b1: Raised;
  let d1: Raised;
  let b2: Raised;

  beforeAll(async () => {
    t = await startTestApp('reports_at_risk_chains');
    ({ shop, tokens } = await withFlowerShop(t));
    desk = new FlowerDesk(t, shop, tokens);
    desk.at('2026-12-03T08:00:00Z');
    r1 = await desk.raise('designer', 'roses');
    b1 = await desk.raise('clerk', 'bouquet');
    d1 = await desk.raise('clerk', 'delivery', { dependsOn: [b1.id], externalRef: 'ORDER-7', externalDueAt: '2026-12-03T10:00:00Z' });
    await desk.link('designer', b1, r1);
    b2 = await desk.raise('clerk', 'bouquet', { externalRef: 'ORDER-8', externalDueAt: '2026-12-10T16:00:00Z' });
    await desk.raise('clerk', 'bouquet');
  });
  afterAll(() => t.close());

  const get = async (path: string, token = tokens.ops) => {
    const answer = await t.http.get(`/api/v1/reports/${path}`).set(bearer(token));
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200 });
    return answer.body as { asOf: string; items: Row[]; chains: ChainRow[]; nextCursor: string | null };
  };
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

  it('gives one row per chain end, least slack first, with its open requests, tightest slack and at-risk episode', async () => {
    const all = await get('at-risk');
    expect(new Set(ids(all.items))).toEqual(new Set([r1.id, b1.id, d1.id, b2.id]));
    expect(ids(all.chains)).toEqual([d1.id, b2.id]);
    const [tight, loose] = all.chains;
    const slackOf = (id: string) => all.items.find((i) => i.id === id)!.slackSeconds;

    expect(tight).toMatchObject({ openRequests: 3, externalRef: 'ORDER-7', externalDueAt: '2026-12-03T10:00:00.000Z', atRisk: true, customer: { code: 'SALES' } });
    expect(tight.slackSeconds).toBe(Math.min(slackOf(r1.id), slackOf(b1.id), slackOf(d1.id)));
    expect(tight.slackSeconds).toBeLessThan(0);
    expect(slackOf(tight.tightestRequestId)).toBe(tight.slackSeconds);
    // The roses hold the whole chain up.
    expect(tight.bottleneckRequestId).toBe(r1.id);
    expect(tight.atRiskSince).toBe('2026-12-03T08:00:00.000Z');

    // Two hours of work in three hours of its own deadline: an hour to spare.
    // On track: nothing holds it up (as GET /requests/:id says).
    expect(loose).toMatchObject({ openRequests: 1, externalRef: 'ORDER-8', atRisk: false, atRiskSince: null, slackSeconds: 3600, tightestRequestId: b2.id, bottleneckRequestId: null });
    expect(all.asOf).toBe('2026-12-03T08:00:00.000Z');
    expect(slackOf(b2.id)).toBe(3600);

    // The chain row and GET /chains/:id of its end agree.
    const chain = await t.http.get(`/api/v1/chains/${d1.id}`).set(bearer(tokens.ops));
    expect(chain.body).toMatchObject({ atRisk: true, slackSeconds: tight.slackSeconds });

    expect(ids((await get('at-risk?onlyAtRisk=true')).chains)).toEqual([d1.id]);
  });

  it('pages both lists with one cursor until both are done', async () => {
    const all = await get('at-risk');
    const items: Row[] = [];
    const chains: ChainRow[] = [];
    let page = await get('at-risk?limit=1');
    for (let pages = 1; ; pages++) {
      expect(page.items.length + page.chains.length).toBeGreaterThan(0);
      expect(page.items.length).toBeLessThanOrEqual(1);
      expect(page.chains.length).toBeLessThanOrEqual(1);
      items.push(...page.items);
      chains.push(...page.chains);
      if (!page.nextCursor) break;
      expect(pages).toBeLessThan(10);
      page = await get(`at-risk?limit=1&cursor=${page.nextCursor}`);
    }
    expect(ids(items)).toEqual(ids(all.items));
    expect(ids(chains)).toEqual(ids(all.chains));

    const bad = (key: unknown[]) => t.http.get(`/api/v1/reports/at-risk?cursor=${Buffer.from(JSON.stringify(key)).toString('base64url')}`).set(bearer(tokens.ops));
    for (const key of [['', '', '', ''], ['12', 'not-a-uuid', '', ''], ['x', r1.id, '', ''], ['5', r1.id]]) {
      const answer = await bad(key);
      expect({ key, status: answer.status, field: answer.body.details?.[0]?.field }).toEqual({ key, status: 400, field: 'cursor' });
    }
  });

  it('shows a head the chains their department takes part in', async () => {
    const chainsOf = async (token: string) => ids((await get('at-risk', token)).chains);
    expect(await chainsOf(tokens.purchasingHead)).toEqual([d1.id]);
    expect(await chainsOf(tokens.designHead)).toEqual([d1.id, b2.id]);
    expect(await chainsOf(tokens.salesHead)).toEqual([d1.id, b2.id]);
    expect(await chainsOf(tokens.deliveryHead)).toEqual([d1.id]);
    expect((await t.http.get('/api/v1/reports/at-risk').set(bearer(tokens.clerk))).status).toBe(403);
  });

  it('moves the row to the new end when the old end is cancelled', async () => {
    await desk.at('2026-12-03T08:30:00Z').move('clerk', d1, 'cancelled');
    const all = await get('at-risk');
    expect(ids(all.chains)).not.toContain(d1.id);
    const row = all.chains.find((c) => c.id === b1.id);
    expect(row).toMatchObject({ openRequests: 2, externalRef: null });
    expect(ids(all.chains)).toContain(b2.id);
  });

  it('drops the chain figures of requests left on their own when the last link between them goes', async () => {
    const unlinked = await t.http.delete(`/api/v1/requests/${b1.id}/dependencies/${r1.id}`).set(bearer(tokens.designer));
    expect(unlinked.status).toBe(204);
    // The roses are linked to nothing now: no chain figures, as a request never linked.
    const roses = (await t.http.get(`/api/v1/requests/${r1.id}`).set(bearer(tokens.ops))).body;
    expect(roses.chain).toMatchObject({ slackSeconds: null, atRisk: false, projectedFinishAt: null, bottleneckRequestId: null });
    // The bouquet is still linked to the cancelled delivery (docs/chains.md): its figures stay fresh, but it is no chain row.
    const all = await get('at-risk');
    expect(ids(all.items)).not.toContain(r1.id);
    expect(ids(all.chains)).not.toContain(b1.id);
  });

  it('stops a chain at a finished request: what that one waited on no longer holds the end up', async () => {
    desk.at('2026-12-03T08:40:00Z');
    const roses = await desk.raise('designer', 'roses');
    const bouquet = await desk.raise('clerk', 'bouquet');
    const delivery = await desk.raise('clerk', 'delivery', { dependsOn: [bouquet.id], externalRef: 'ORDER-9', externalDueAt: '2026-12-05T16:00:00Z' });
    await desk.link('designer', bouquet, roses);
    expect((await get('at-risk')).chains.find((c) => c.id === delivery.id)).toMatchObject({ openRequests: 3 });
    await desk.move('designer', bouquet, 'resolved');
    const row = (await get('at-risk')).chains.find((c) => c.id === delivery.id)!;
    const own = (await t.http.get(`/api/v1/requests/${delivery.id}`).set(bearer(tokens.ops))).body.chain.slackSeconds;
    expect(row).toMatchObject({ openRequests: 1, tightestRequestId: delivery.id, slackSeconds: own });
  });
});
