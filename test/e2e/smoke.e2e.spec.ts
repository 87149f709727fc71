import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';
import type { FlowerShop } from '../../src/demo/flower-shop';

describe('smoke: a clerk raises a request to Design', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp('smoke', { now: '2026-12-01T09:00:00Z' });
    ({ shop, tokens } = await withFlowerShop(t));
  });
  afterAll(() => t.close());

  it('logs in, raises a request and reads it back', async () => {
    const me = await t.http.get('/api/v1/me').set(bearer(tokens.clerk));
    expect(me.status).toBe(200);
    expect(me.body.email).toBe('clara.clerk@flowers.example');
    const created = await t.http
      .post('/api/v1/requests')
      .set(bearer(tokens.clerk))
      .send({ serviceId: shop.services.bouquet.id, title: 'Bouquet for order 1042' });
    expect(created.status).toBe(201);
    // Design works 08:00-12:00, 12:30-17:00 Amsterdam (UTC+1 in December): 10:00 local + 30 min.
    expect(created.body.respondBy).toBe('2026-12-01T09:30:00.000Z');
    expect(created.body.resolveBy).toBe('2026-12-01T12:30:00.000Z');
    const read = await t.http.get(`/api/v1/requests/${created.body.id}`).set(bearer(tokens.designer));
    expect(read.status).toBe(200);
    expect(read.body.title).toBe('Bouquet for order 1042');
  });

  it('answers a path with a trailing slash as the path without it, as clients of the API may send it', async () => {
    const plain = await t.http.get('/api/v1/services').set(bearer(tokens.clerk));
    const slashed = await t.http.get('/api/v1/services/').set(bearer(tokens.clerk));
    expect(plain.status).toBe(200);
    expect(slashed.status).toBe(200);
    expect(slashed.body).toEqual(plain.body);
  });

  it('refuses a department or service code that differs from one in use only by case (409), and renames by case', async () => {
    const admin = bearer(tokens.admin);
    const department = await t.http.post('/api/v1/departments').set(admin).send({ name: 'Sales again', code: 'sales', timezone: 'Europe/Amsterdam' });
    expect({ status: department.status, message: department.body.message }).toEqual({ status: 409, message: 'A department with code SALES already exists' });
    const service = await t.http.post('/api/v1/services').set(admin).send({ departmentId: shop.departments.DESIGN.id, code: 'bouquet', name: 'Another bouquet' });
    expect(service.status).toBe(409);
    const renamed = await t.http.patch(`/api/v1/departments/${shop.departments.SALES.id}`).set(admin).send({ code: 'Sales' });
    expect({ status: renamed.status, code: renamed.body.code }).toEqual({ status: 200, code: 'Sales' });
    expect((await t.http.patch(`/api/v1/departments/${shop.departments.DELIV.id}`).set(admin).send({ code: 'SALES' })).status).toBe(409);
    expect((await t.http.patch(`/api/v1/departments/${shop.departments.SALES.id}`).set(admin).send({ code: 'SALES' })).status).toBe(200);
  });
});
