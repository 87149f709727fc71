import type { FlowerShop } from '../../src/demo/flower-shop';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

describe('GET /requests: filters, visibility and cursor pagination', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  const ids: Record<string, string[]> = { bouquet: [], roses: [], delivery: [] };

  beforeAll(async () => {
    t = await startTestApp('list');
    ({ shop, tokens } = await withFlowerShop(t));
    for (let i = 0; i < 7; i++) {
      t.clock.advance(1);
      ids.bouquet.push((await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: `Bouquet ${i}` })).body.id);
    }
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1);
      ids.roses.push((await t.http.post('/api/v1/requests').set(bearer(tokens.designer)).send({ serviceId: shop.services.roses.id, title: `Roses ${i}` })).body.id);
    }
    t.clock.advance(1);
    ids.delivery.push((await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.delivery.id, title: 'Delivery' })).body.id);
  });
  afterAll(() => t.close());

  const all = async (token: string, query: string) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const answer: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await t.http.get(`/api/v1/requests?${query}${cursor ? `&cursor=${cursor}` : ''}`).set(bearer(token));
      expect(answer.status).toBe(200);
      seen.push(...(answer.body.items as { id: string }[]).map((r) => r.id));
      cursor = answer.body.nextCursor;
      if (!cursor) break;
    }
    return seen;
  };

  it('pages through everything exactly once, newest first', async () => {
    const seen = await all(tokens.ops, 'limit=3');
    expect(seen).toHaveLength(11);
    expect(new Set(seen).size).toBe(11);
    expect(seen.slice(-7).reverse()).toEqual(ids.bouquet);
  });

  it('shows each department only what it is party to', async () => {
    expect(new Set(await all(tokens.buyer, 'limit=2'))).toEqual(new Set(ids.roses));
    expect(new Set(await all(tokens.courier, 'limit=100'))).toEqual(new Set(ids.delivery));
    expect(new Set(await all(tokens.designer, 'limit=100'))).toEqual(new Set([...ids.bouquet, ...ids.roses]));
    expect(await all(tokens.buyer, `customerDepartmentId=${shop.departments.SALES.id}`)).toEqual([]);
  });

  it('filters by provider, customer and status', async () => {
    expect(new Set(await all(tokens.admin, `providerDepartmentId=${shop.departments.PURCH.id}`))).toEqual(new Set(ids.roses));
    expect(new Set(await all(tokens.admin, `customerDepartmentId=${shop.departments.DESIGN.id}`))).toEqual(new Set(ids.roses));
    const first = (await t.http.get(`/api/v1/requests/${ids.bouquet[0]}`).set(bearer(tokens.designer))).body;
    await t.http.post(`/api/v1/requests/${first.id}/transitions`).set(bearer(tokens.designer)).send({ to: 'acknowledged', version: first.version });
    expect(await all(tokens.designer, 'status=acknowledged')).toEqual([first.id]);
    expect(await all(tokens.designer, 'status=acknowledged,cancelled')).toEqual([first.id]);
    expect(await all(tokens.designer, 'status=acknowledged&status=cancelled')).toEqual([first.id]);
    expect((await all(tokens.designer, 'status=open')).length).toBe(9);
    expect(await all(tokens.designer, 'atRisk=true')).toEqual([]);
  });

  it('refuses a cursor it did not give out', async () => {
    const answer = await t.http.get('/api/v1/requests?cursor=bm90LWEtY3Vyc29y').set(bearer(tokens.ops));
    expect(answer.status).toBe(400);
    expect(answer.body.details[0].field).toBe('cursor');
  });
});
