import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { API, expectError } from '../support/security-helpers';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

type Role = 'employee' | 'head' | 'ops' | 'admin';
/** The demo user that stands for each role in the organisation matrix (Design's people for the department-bound ones). */
const ACTOR: Record<Role, string> = { employee: 'designer', head: 'designHead', ops: 'ops', admin: 'admin' };

describe('access matrix: who may do what', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let seq = 0;
  const unique = (prefix: string) => `${prefix}${++seq}${randomUUID().slice(0, 4)}`.toUpperCase();

  const as = (userKey: string) => ({
    get: (path: string) => t.http.get(`${API}${path}`).set(bearer(tokens[userKey])),
    post: (path: string, body: object) => t.http.post(`${API}${path}`).set(bearer(tokens[userKey])).send(body),
    patch: (path: string, body: object) => t.http.patch(`${API}${path}`).set(bearer(tokens[userKey])).send(body),
    delete: (path: string) => t.http.delete(`${API}${path}`).set(bearer(tokens[userKey])),
  });

  /** Asserts a status; for an error also the one error shape. */
  const expectStatus = (res: Response, status: number) => {
    if (status >= 400) expectError(res, status);
    else if (res.status !== status) throw new Error(`status ${res.status}, expected ${status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  };

  beforeAll(async () => {
    t = await startTestApp('access-matrix', { now: '2026-12-01T09:00:00Z' });
    ({ shop, tokens } = await withFlowerShop(t));
  });
  afterAll(() => t.close());

  describe('organisation routes', () => {
    type Matrix = Record<Role, number>;
    const calendarBody = () => ({ name: `Cal ${unique('c')}`, timezone: 'Europe/Amsterdam', weeklyHours: [{ weekday: 1, start: '09:00', end: '17:00' }] });

    describe('departments: everyone reads, admin writes', () => {
      const create: Matrix = { employee: 403, head: 403, ops: 403, admin: 201 };
      const list: Matrix = { employee: 200, head: 200, ops: 200, admin: 200 };
      const get: Matrix = { employee: 200, head: 200, ops: 200, admin: 200 };
      const patch: Matrix = { employee: 403, head: 403, ops: 403, admin: 200 };

      it.each(Object.entries(create))('POST /departments as %s → %i', async (role, status) => {
        const code = unique('D');
        const res = await as(ACTOR[role as Role]).post('/departments', { name: `Dept ${code}`, code, timezone: 'Europe/Amsterdam' });
        expectStatus(res, status);
        const listed = await as('admin').get('/departments?limit=100');
        expect((listed.body.items as { code: string }[]).some((d) => d.code === code)).toBe(status === 201);
      });
      it.each(Object.entries(list))('GET /departments as %s → %i', async (role, status) => {
        const res = await as(ACTOR[role as Role]).get('/departments');
        expectStatus(res, status);
        expect((res.body.items as { id: string }[]).map((d) => d.id)).toEqual(expect.arrayContaining(Object.values(shop.departments).map((d) => d.id)));
      });
      it.each(Object.entries(get))('GET /departments/:id (another department) as %s → %i', async (role, status) => {
        const res = await as(ACTOR[role as Role]).get(`/departments/${shop.departments.PURCH.id}`);
        expectStatus(res, status);
        expect(res.body.code).toBe('PURCH');
      });
      it.each(Object.entries(patch))('PATCH /departments/:id (the head’s own department) as %s → %i', async (role, status) => {
        const email = `${role}-${randomUUID().slice(0, 6)}@flowers.example`;
        const res = await as(ACTOR[role as Role]).patch(`/departments/${shop.departments.DESIGN.id}`, { escalationEmail: email });
        expectStatus(res, status);
        const after = await as('admin').get(`/departments/${shop.departments.DESIGN.id}`);
        expect(after.body.escalationEmail === email).toBe(status === 200);
      });
    });

    describe('users: admin only', () => {
      const matrix: Matrix = { employee: 403, head: 403, ops: 403, admin: 0 };
      it.each(Object.entries(matrix))('POST, GET list, GET one and PATCH /users as %s', async (role, denied) => {
        const who = as(ACTOR[role as Role]);
        const email = `new-${randomUUID().slice(0, 8)}@flowers.example`;
        const created = await who.post('/users', { email, name: 'New Hire', password: 'long-enough-pw', departmentId: shop.departments.SALES.id, role: 'employee' });
        const listed = await who.get('/users');
        const one = await who.get(`/users/${shop.users.courier.id}`);
        const patched = await who.patch(`/users/${shop.users.courier.id}`, { name: `Cody ${role}` });
        if (denied) {
          for (const res of [created, listed, one, patched]) expectStatus(res, denied);
          const check = await as('admin').get(`/users/${shop.users.courier.id}`);
          expect(check.body.name).not.toBe(`Cody ${role}`);
          const all = await as('admin').get('/users?limit=100');
          expect((all.body.items as { email: string }[]).some((u) => u.email === email)).toBe(false);
        } else {
          expectStatus(created, 201);
          expectStatus(listed, 200);
          expectStatus(one, 200);
          expectStatus(patched, 200);
          expect(patched.body.name).toBe(`Cody ${role}`);
        }
      });
    });

    describe('calendars: admin and ops, read and write', () => {
      const matrix: Matrix = { employee: 403, head: 403, ops: 0, admin: 0 };
      it.each(Object.entries(matrix))('POST, GET list, GET one and PATCH /calendars as %s', async (role, denied) => {
        const who = as(ACTOR[role as Role]);
        const created = await who.post('/calendars', calendarBody());
        const listed = await who.get('/calendars');
        const one = await who.get(`/calendars/${shop.calendars.DESIGN.id}`);
        const patched = await who.patch(`/calendars/${shop.calendars.DELIV.id}`, { name: `Rounds (${role})` });
        if (denied) {
          for (const res of [created, listed, one, patched]) expectStatus(res, denied);
          expect((await as('admin').get(`/calendars/${shop.calendars.DELIV.id}`)).body.name).not.toBe(`Rounds (${role})`);
        } else {
          expectStatus(created, 201);
          expectStatus(listed, 200);
          expectStatus(one, 200);
          expectStatus(patched, 200);
          expect(patched.body.name).toBe(`Rounds (${role})`);
        }
      });
    });

    describe("services: everyone reads; admin or the provider's head writes", () => {
      it.each(Object.keys(ACTOR))('GET /services and GET /services/:id as %s → 200', async (role) => {
        const who = as(ACTOR[role as Role]);
        const listed = await who.get('/services');
        expectStatus(listed, 200);
        expect((listed.body.items as { id: string }[]).map((s) => s.id)).toEqual(expect.arrayContaining(Object.values(shop.services).map((s) => s.id)));
        const one = await who.get(`/services/${shop.services.roses.id}`);
        expectStatus(one, 200);
        expect(one.body.code).toBe('ROSES');
      });

      // [who, department code the service is for, expected status]
      const create: [string, 'DESIGN' | 'PURCH', number][] = [
        ['designer', 'DESIGN', 403],
        ['designHead', 'DESIGN', 201],
        ['designHead', 'PURCH', 403],
        ['ops', 'DESIGN', 403],
        ['admin', 'PURCH', 201],
      ];
      it.each(create)('POST /services as %s for %s → %i', async (who, code, status) => {
        const serviceCode = unique('S');
        const res = await as(who).post('/services', { departmentId: shop.departments[code].id, code: serviceCode, name: `Service ${serviceCode}` });
        expectStatus(res, status);
        const listed = await as('admin').get(`/services?departmentId=${shop.departments[code].id}&limit=100`);
        expect((listed.body.items as { code: string }[]).some((s) => s.code === serviceCode)).toBe(status === 201);
      });

      const patch: [string, 'bouquet' | 'roses', number][] = [
        ['designer', 'bouquet', 403],
        ['designHead', 'bouquet', 200],
        ['designHead', 'roses', 403],
        ['ops', 'bouquet', 403],
        ['admin', 'roses', 200],
      ];
      it.each(patch)('PATCH /services/:id as %s on %s → %i', async (who, service, status) => {
        const description = `Edited by ${who} ${randomUUID()}`;
        const res = await as(who).patch(`/services/${shop.services[service].id}`, { description });
        expectStatus(res, status);
        const after = await as('admin').get(`/services/${shop.services[service].id}`);
        expect(after.body.description === description).toBe(status === 200);
      });
    });

    describe("agreements: everyone reads; admin, ops or the provider's head writes", () => {
      // Delivery's service: its head is the provider's head, Design's head is the head of another department.
      it.each(['courier', 'designer', 'designHead', 'deliveryHead', 'ops', 'admin'])('GET /agreements and GET /agreements/:id as %s → 200', async (who) => {
        const listed = await as(who).get(`/agreements?serviceId=${shop.services.delivery.id}`);
        expectStatus(listed, 200);
        const items = listed.body.items as { id: string; serviceId: string }[];
        expect(items.length).toBeGreaterThan(0);
        expect(items.every((a) => a.serviceId === shop.services.delivery.id)).toBe(true);
        expectStatus(await as(who).get(`/agreements/${items[0].id}`), 200);
      });

      // Each allowed create uses a scope of its own (customer department × priority), so none collides.
      const create: [string, 'SALES' | 'DESIGN' | 'PURCH', 'low' | 'high', number][] = [
        ['courier', 'SALES', 'low', 403],
        ['designer', 'SALES', 'low', 403],
        ['designHead', 'SALES', 'low', 403],
        ['deliveryHead', 'SALES', 'low', 201],
        ['ops', 'DESIGN', 'low', 201],
        ['admin', 'PURCH', 'high', 201],
      ];
      it.each(create)('POST /agreements as %s (for %s, %s priority) → %i', async (who, customer, priority, status) => {
        const res = await as(who).post('/agreements', {
          serviceId: shop.services.delivery.id,
          customerDepartmentId: shop.departments[customer].id,
          priority,
          responseTarget: 'PT45M',
          resolutionTarget: 'PT5H',
        });
        expectStatus(res, status);
        const listed = await as('admin').get(`/agreements?serviceId=${shop.services.delivery.id}&limit=100`);
        const match = (listed.body.items as { customerDepartmentId: string; priority: string }[]).filter(
          (a) => a.customerDepartmentId === shop.departments[customer].id && a.priority === priority,
        );
        expect(match.length).toBe(status === 201 ? 1 : 0);
      });

      const patch: [string, number][] = [
        ['courier', 403],
        ['designer', 403],
        ['designHead', 403],
        ['deliveryHead', 200],
        ['ops', 200],
        ['admin', 200],
      ];
      it.each(patch)('PATCH /agreements/:id (Delivery’s default) as %s → %i', async (who, status) => {
        const listed = await as('admin').get(`/agreements?serviceId=${shop.services.delivery.id}&limit=100`);
        const current = (listed.body.items as { id: string; customerDepartmentId: string | null; priority: string | null; version: number; warnAtPercent: number }[]).find(
          (a) => a.customerDepartmentId === null && a.priority === null,
        )!;
        // A value it does not have yet: a PATCH that changes nothing makes no version.
        const res = await as(who).patch(`/agreements/${current.id}`, { warnAtPercent: current.warnAtPercent === 80 ? 81 : 80 });
        expectStatus(res, status);
        const after = await as('admin').get(`/agreements/${current.id}`);
        expect(after.body.version).toBe(status === 200 ? current.version + 1 : current.version);
      });
    });
  });

  describe('requests: parties, ops and admin see them; everyone else gets 404', () => {
    let salesToDesign: { id: string; version: number };
    let upstream: { id: string };
    let buyersOwn: { id: string };
    let eventCountBefore: number;

    const raise = async (who: string, title: string, service: 'bouquet' | 'roses' | 'delivery' | 'orderInfo' = 'bouquet') => {
      const res = await as(who).post('/requests', { serviceId: shop.services[service].id, title });
      expectStatus(res, 201);
      return res.body as { id: string; version: number; status: string };
    };
    const eventsOf = async (id: string) => (await as('admin').get(`/requests/${id}/events?limit=100`)).body.items as { type: string }[];

    beforeAll(async () => {
      salesToDesign = await raise('clerk', 'Bouquet for order 2001');
      upstream = await raise('clerk', 'Bouquet for order 2001 – wrapping');
      buyersOwn = await raise('buyer', 'Sample bouquet for the auction stand');
      const linked = await as('clerk').post(`/requests/${salesToDesign.id}/dependencies`, { dependsOnId: upstream.id });
      expectStatus(linked, 201);
      const fresh = await as('clerk').get(`/requests/${salesToDesign.id}`);
      salesToDesign = fresh.body as { id: string; version: number };
      eventCountBefore = (await eventsOf(salesToDesign.id)).length;
    });

    const outsiders = [
      ['buyer', 'Purchasing employee'],
      ['courier', 'Delivery employee'],
      ['purchasingHead', 'Purchasing head'],
    ] as const;

    describe.each(outsiders)('an outsider (%s, %s)', (who) => {
      /** Every request route, for the Sales → Design request the outsider is no party to. */
      const routes: [string, () => Promise<Response>][] = [
        ['GET /requests/:id', () => as(who).get(`/requests/${salesToDesign.id}`)],
        ['PATCH /requests/:id', () => as(who).patch(`/requests/${salesToDesign.id}`, { priority: 'urgent', version: salesToDesign.version })],
        ['POST /requests/:id/transitions (acknowledge)', () => as(who).post(`/requests/${salesToDesign.id}/transitions`, { to: 'acknowledged', version: salesToDesign.version })],
        ['POST /requests/:id/transitions (cancel)', () => as(who).post(`/requests/${salesToDesign.id}/transitions`, { to: 'cancelled', version: salesToDesign.version })],
        ['POST /requests/:id/comments', () => as(who).post(`/requests/${salesToDesign.id}/comments`, { body: 'Can I see this?' })],
        ['GET /requests/:id/events', () => as(who).get(`/requests/${salesToDesign.id}/events`)],
        ['POST /requests/:id/dependencies', () => as(who).post(`/requests/${salesToDesign.id}/dependencies`, { dependsOnId: buyersOwn.id })],
        ['DELETE /requests/:id/dependencies/:dependsOnId', () => as(who).delete(`/requests/${salesToDesign.id}/dependencies/${upstream.id}`)],
      ];

      it.each(routes)('%s answers 404 with no request data', async (_route, call) => {
        const res = await call();
        expectError(res, 404);
        const text = JSON.stringify(res.body);
        expect(text).not.toContain('Bouquet for order 2001');
        expect(text).not.toContain(shop.departments.SALES.id);
      });

      it('gets the same 404 body for the request as for an id that does not exist', async () => {
        const hidden = await as(who).get(`/requests/${salesToDesign.id}`);
        const missing = await as(who).get(`/requests/${randomUUID()}`);
        expectError(hidden, 404);
        expectError(missing, 404);
        const { requestId: _a, ...hiddenBody } = hidden.body as Record<string, unknown>;
        const { requestId: _b, ...missingBody } = missing.body as Record<string, unknown>;
        expect(hiddenBody).toEqual(missingBody);
        // Also on a write route: a hidden request and a missing one are indistinguishable.
        const hiddenComment = await as(who).post(`/requests/${salesToDesign.id}/comments`, { body: 'x' });
        const missingComment = await as(who).post(`/requests/${randomUUID()}/comments`, { body: 'x' });
        expect(hiddenComment.body.message).toBe(missingComment.body.message);
      });

      it('does not find it in GET /requests, nor by filtering on the customer department', async () => {
        const all = await as(who).get('/requests?limit=100');
        expectStatus(all, 200);
        const ids = (all.body.items as { id: string }[]).map((r) => r.id);
        expect(ids).not.toContain(salesToDesign.id);
        expect(ids).not.toContain(upstream.id);
        const bySales = await as(who).get(`/requests?customerDepartmentId=${shop.departments.SALES.id}`);
        expectStatus(bySales, 200);
        expect(bySales.body.items).toEqual([]);
        const byDesign = await as(who).get(`/requests?providerDepartmentId=${shop.departments.DESIGN.id}&customerDepartmentId=${shop.departments.SALES.id}`);
        expect(byDesign.body.items).toEqual([]);
      });

      it('cannot learn of it by naming it as a dependency of a new request', async () => {
        const hidden = await as(who).post('/requests', { serviceId: shop.services.delivery.id, title: 'Probe', dependsOn: [salesToDesign.id] });
        const missing = await as(who).post('/requests', { serviceId: shop.services.delivery.id, title: 'Probe', dependsOn: [randomUUID()] });
        expectError(hidden, 400);
        expectError(missing, 400);
        expect(hidden.body.details).toEqual(missing.body.details);
      });
    });

    it("an outsider does see their own department's request (the control for the 404s above)", async () => {
      const mine = await as('buyer').get(`/requests/${buyersOwn.id}`);
      expectStatus(mine, 200);
      const listed = await as('buyer').get(`/requests?providerDepartmentId=${shop.departments.DESIGN.id}`);
      expect((listed.body.items as { id: string }[]).map((r) => r.id)).toEqual([buyersOwn.id]);
    });

    it('nothing the outsiders tried changed the request, its timeline or its links', async () => {
      const after = await as('clerk').get(`/requests/${salesToDesign.id}`);
      expect(after.body).toEqual(expect.objectContaining({ status: 'open', version: salesToDesign.version, priority: 'normal', dependsOn: [upstream.id] }));
      expect(await eventsOf(salesToDesign.id)).toHaveLength(eventCountBefore);
    });

    it('a request id that does not exist answers 404 in the error shape on every request route', async () => {
      const ghost = randomUUID();
      const calls = [
        as('admin').get(`/requests/${ghost}`),
        as('admin').patch(`/requests/${ghost}`, { priority: 'high', version: 1 }),
        as('admin').post(`/requests/${ghost}/transitions`, { to: 'acknowledged', version: 1 }),
        as('admin').post(`/requests/${ghost}/comments`, { body: 'hello' }),
        as('admin').get(`/requests/${ghost}/events`),
        as('admin').post(`/requests/${ghost}/dependencies`, { dependsOnId: upstream.id }),
        as('admin').delete(`/requests/${ghost}/dependencies/${upstream.id}`),
      ];
      for (const res of await Promise.all(calls)) expectError(res, 404);
    });

    it.each(['clerk', 'salesHead', 'designer', 'designHead', 'ops', 'admin'])('%s (a party, ops or admin) reads it with 200 and finds it in the list', async (who) => {
      const res = await as(who).get(`/requests/${salesToDesign.id}`);
      expectStatus(res, 200);
      expect(res.body.id).toBe(salesToDesign.id);
      const events = await as(who).get(`/requests/${salesToDesign.id}/events`);
      expectStatus(events, 200);
      const listed = await as(who).get('/requests?limit=100');
      expect((listed.body.items as { id: string }[]).map((r) => r.id)).toContain(salesToDesign.id);
    });

    describe('moving a request through its life cycle', () => {
      let request: { id: string; version: number; status: string };
      const move = (who: string, to: string, version = request.version) => as(who).post(`/requests/${request.id}/transitions`, { to, version });
      const reload = async () => {
        request = (await as('admin').get(`/requests/${request.id}`)).body as typeof request;
        return request;
      };

      beforeAll(async () => {
        request = await raise('clerk', 'Bouquet for order 2002');
      });

      it('ops can read but not act: a transition is an illegal move for them (409) and changes nothing', async () => {
        expectError(await move('ops', 'acknowledged'), 409);
        expectError(await move('ops', 'cancelled'), 409);
        expect(await reload()).toEqual(expect.objectContaining({ status: 'open', version: 1 }));
      });

      it('ops may neither comment on nor re-prioritise it (403)', async () => {
        expectError(await as('ops').post(`/requests/${request.id}/comments`, { body: 'Ops here' }), 403);
        expectError(await as('ops').patch(`/requests/${request.id}`, { priority: 'urgent', version: request.version }), 403);
        expect(await reload()).toEqual(expect.objectContaining({ priority: 'normal', version: 1 }));
      });

      it('the customer may not take a provider step: the clerk acknowledging is an illegal move (409)', async () => {
        expectError(await move('clerk', 'acknowledged'), 409);
        expectError(await move('salesHead', 'in_progress'), 409);
        expect(await reload()).toEqual(expect.objectContaining({ status: 'open', respondedAt: null }));
      });

      it('the customer may not re-prioritise it either (PATCH is provider side): 403', async () => {
        expectError(await as('clerk').patch(`/requests/${request.id}`, { priority: 'urgent', version: request.version }), 403);
      });

      it('an illegal move (open → closed) answers 409 for either side and changes nothing', async () => {
        expectError(await move('clerk', 'closed'), 409);
        expectError(await move('designer', 'closed'), 409);
        expectError(await move('designer', 'open'), 409);
        expect(await reload()).toEqual(expect.objectContaining({ status: 'open', version: 1 }));
      });

      it('the provider acknowledges with the current version (200), and a stale version then answers 409', async () => {
        const acknowledged = await move('designer', 'acknowledged', 1);
        expectStatus(acknowledged, 200);
        expect(acknowledged.body.status).toBe('acknowledged');
        expect(acknowledged.body.version).toBeGreaterThan(1);
        const stale = await move('designHead', 'in_progress', 1);
        expectError(stale, 409);
        expect(await reload()).toEqual(expect.objectContaining({ status: 'acknowledged', version: acknowledged.body.version }));
        const staleEdit = await as('designHead').patch(`/requests/${request.id}`, { priority: 'high', version: 1 });
        expectError(staleEdit, 409);
        expect((await reload()).status).toBe('acknowledged');
      });

      it('the provider may not close a resolved request (409); the customer may (200)', async () => {
        expectStatus(await move('designer', 'in_progress'), 200);
        await reload();
        expectStatus(await move('designer', 'resolved'), 200);
        await reload();
        expectError(await move('designer', 'closed'), 409);
        expectError(await move('designHead', 'closed'), 409);
        expect((await reload()).status).toBe('resolved');
        const closed = await move('clerk', 'closed');
        expectStatus(closed, 200);
        expect(closed.body.status).toBe('closed');
      });

      it('admin may act for either side', async () => {
        const other = await raise('clerk', 'Bouquet for order 2003');
        const acked = await as('admin').post(`/requests/${other.id}/transitions`, { to: 'acknowledged', version: other.version });
        expectStatus(acked, 200);
        const cancelled = await as('admin').post(`/requests/${other.id}/transitions`, { to: 'cancelled', version: acked.body.version });
        expectStatus(cancelled, 200);
        expect(cancelled.body.status).toBe('cancelled');
      });
    });
  });
});
