import { randomUUID } from 'node:crypto';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { newRequest } from '../../src/requests/request.entity';
import { RequestsRepository } from '../../src/requests/requests.repository';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

describe('racing clients: idempotency, optimistic locking and cycles', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp('concurrency');
    ({ shop, tokens } = await withFlowerShop(t));
  });
  afterAll(() => t.close());

  const countRequests = async (title: string) =>
    Number((await t.dataSource.query('SELECT count(*)::int AS n FROM requests WHERE title = $1', [title]))[0].n);
  const raise = (title: string, token = tokens.clerk, serviceId = shop.services.bouquet.id) =>
    t.http.post('/api/v1/requests').set(bearer(token)).send({ serviceId, title });

  it('twenty identical POSTs with one Idempotency-Key at once make one request and the same answer', async () => {
    const body = { serviceId: shop.services.bouquet.id, title: 'Idempotent bouquet', priority: 'high' };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).set('Idempotency-Key', 'order-77').send(body)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    for (const answer of answers) expect(answer.body).toEqual(answers[0].body);
    expect(await countRequests('Idempotent bouquet')).toBe(1);
  });

  it('the same key with its keys in another order is the same body; another body answers 422', async () => {
    const first = await t.http
      .post('/api/v1/requests')
      .set(bearer(tokens.clerk))
      .set('Idempotency-Key', 'order-78')
      .send({ title: 'Reordered keys', serviceId: shop.services.bouquet.id });
    const again = await t.http
      .post('/api/v1/requests')
      .set(bearer(tokens.clerk))
      .set('Idempotency-Key', 'order-78')
      .send({ serviceId: shop.services.bouquet.id, title: 'Reordered keys' });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const other = await t.http
      .post('/api/v1/requests')
      .set(bearer(tokens.clerk))
      .set('Idempotency-Key', 'order-78')
      .send({ serviceId: shop.services.bouquet.id, title: 'Something else' });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity' });
    expect(await countRequests('Something else')).toBe(0);
    // Keys belong to their user: the same key from another user is a new request.
    const fromHead = await t.http
      .post('/api/v1/requests')
      .set(bearer(tokens.salesHead))
      .set('Idempotency-Key', 'order-78')
      .send({ title: 'Reordered keys', serviceId: shop.services.bouquet.id });
    expect(fromHead.status).toBe(201);
    expect(fromHead.body.id).not.toBe(first.body.id);
  });

  it('forty plain creates at once: every 201 is stored with its created event and counted in the reports', async () => {
    const providerTotal = async () =>
      Number((await t.dataSource.query(`SELECT coalesce(sum(total), 0)::int AS n FROM report_daily WHERE dimension = 'provider' AND span = 'day' AND group_id = $1`, [shop.services.bouquet.departmentId]))[0].n);
    const before = await providerTotal();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => raise(`Burst bouquet ${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(201));
    const ids = answers.map((a) => a.body.id as string);
    const stored = await t.dataSource.query(
      `SELECT r.id, r.title, r.respond_by, e.type, e.actor_id FROM requests r JOIN request_events e ON e.request_id = r.id WHERE r.id = ANY($1)`,
      [ids],
    );
    expect(stored).toHaveLength(40);
    for (const answer of answers) {
      const row = stored.find((r: { id: string }) => r.id === answer.body.id);
      expect(row).toMatchObject({ title: answer.body.title, type: 'created', actor_id: shop.users.clerk.id });
      expect(new Date(row.respond_by).toISOString()).toBe(answer.body.respondBy);
    }
    expect(await providerTotal()).toBe(before + 40);
  });

  it('creates that share one INSERT: a row that cannot be stored fails alone, the others are stored', async () => {
    const template = (await raise('Template for shared inserts')).body;
    const stored = (await t.app.get(RequestsRepository).findById(template.id))!;
    const repository = t.app.get(RequestsRepository);
    const rows = Array.from({ length: 5 }, (_, i) =>
      newRequest({ ...stored, id: randomUUID(), title: `Shared insert ${i}`, serviceId: i === 2 ? randomUUID() : stored.serviceId }),
    );
    // Called in one event-loop turn, so all five go into one statement first.
    const outcomes = await Promise.allSettled(
      rows.map((row) => repository.insertRequestWithEvent(row, { requestId: row.id, actorId: shop.users.clerk.id, type: 'created', at: row.createdAt })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    const titles = await t.dataSource.query(`SELECT title FROM requests WHERE title LIKE 'Shared insert %' ORDER BY title`);
    expect(titles.map((r: { title: string }) => r.title)).toEqual(['Shared insert 0', 'Shared insert 1', 'Shared insert 3', 'Shared insert 4']);
    const events = await t.dataSource.query(`SELECT count(*)::int AS n FROM request_events WHERE request_id = ANY($1)`, [rows.map((r) => r.id)]);
    expect(events[0].n).toBe(4);
  });

  it('creates arriving while a shared INSERT is in flight gather into the next one (one commit for all of them)', async () => {
    const template = (await raise('Template for gathered inserts')).body;
    const stored = (await t.app.get(RequestsRepository).findById(template.id))!;
    const repository = t.app.get(RequestsRepository);
    const row = (title: string) => newRequest({ ...stored, id: randomUUID(), title });
    const insert = (request: ReturnType<typeof row>) =>
      repository.insertRequestWithEvent(request, { requestId: request.id, actorId: shop.users.clerk.id, type: 'created', at: request.createdAt });
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    // The first statement is held in flight: its report trigger waits for a lock taken here.
    const locker = t.dataSource.createQueryRunner();
    await locker.startTransaction();
    await locker.query('LOCK TABLE report_daily IN EXCLUSIVE MODE');
    const first = [row('Gathered A0'), row('Gathered A1')];
    const firstDone = Promise.all(first.map(insert));
    await nextTurn();
    // Three creates, each in an event-loop turn of its own, while the first statement waits.
    const later: Promise<void>[] = [];
    for (const title of ['Gathered B0', 'Gathered B1', 'Gathered B2']) {
      await nextTurn();
      later.push(insert(row(title)));
    }
    await nextTurn();
    await locker.commitTransaction();
    await locker.release();
    await Promise.all([firstDone, ...later]);
    // Rows written by one statement share its transaction id.
    const transactions = await t.dataSource.query(
      `SELECT left(title, 10) AS batch, count(DISTINCT xmin::text)::int AS n FROM requests WHERE title LIKE 'Gathered %' GROUP BY 1 ORDER BY 1`,
    );
    expect(transactions).toEqual([
      { batch: 'Gathered A', n: 1 },
      { batch: 'Gathered B', n: 1 },
    ]);
  });

  it('ten racing acknowledgements with one version: one wins, nine get 409, one event is written', async () => {
    const created = (await raise('Raced bouquet')).body;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.http.post(`/api/v1/requests/${created.id}/transitions`).set(bearer(tokens.designer)).send({ to: 'acknowledged', version: created.version }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(409)]);
    expect(answers.find((a) => a.status === 409)!.body.message).toMatch(/version/);
    const transitions = await t.dataSource.query(`SELECT count(*)::int AS n FROM request_events WHERE request_id = $1 AND type = 'transitioned'`, [created.id]);
    expect(transitions[0].n).toBe(1);
    const now = (await t.http.get(`/api/v1/requests/${created.id}`).set(bearer(tokens.designer))).body;
    expect(now.version).toBe(created.version + 1);
  });

  it('a stale version on PATCH answers 409 and changes nothing', async () => {
    const created = (await raise('Stale patch')).body;
    const first = await t.http.patch(`/api/v1/requests/${created.id}`).set(bearer(tokens.designHead)).send({ assigneeId: shop.users.designer.id, version: 1 });
    expect(first.status).toBe(200);
    expect(first.body.assigneeId).toBe(shop.users.designer.id);
    const stale = await t.http.patch(`/api/v1/requests/${created.id}`).set(bearer(tokens.designHead)).send({ priority: 'urgent', version: 1 });
    expect(stale.status).toBe(409);
    const now = (await t.http.get(`/api/v1/requests/${created.id}`).set(bearer(tokens.designHead))).body;
    expect(now.priority).toBe('normal');
    const outsiderAssignee = await t.http.patch(`/api/v1/requests/${created.id}`).set(bearer(tokens.designHead)).send({ assigneeId: shop.users.courier.id, version: now.version });
    expect(outsiderAssignee.status).toBe(400);
  });

  it('refuses a dependency that would close a cycle, directly or through others, even when two links race', async () => {
    const roses = (await raise('Roses for 1042', tokens.designer, shop.services.roses.id)).body;
    const bouquet = (await raise('Bouquet for 1042')).body;
    const delivery = (await raise('Deliver 1042', tokens.clerk, shop.services.delivery.id)).body;
    // Sales is party to bouquet and delivery; Design to roses and bouquet.
    expect((await t.http.post(`/api/v1/requests/${bouquet.id}/dependencies`).set(bearer(tokens.designer)).send({ dependsOnId: roses.id })).status).toBe(201);
    expect((await t.http.post(`/api/v1/requests/${delivery.id}/dependencies`).set(bearer(tokens.clerk)).send({ dependsOnId: bouquet.id })).status).toBe(201);
    expect((await t.http.post(`/api/v1/requests/${delivery.id}/dependencies`).set(bearer(tokens.clerk)).send({ dependsOnId: bouquet.id })).status).toBe(200);
    const cycle = await t.http.post(`/api/v1/requests/${bouquet.id}/dependencies`).set(bearer(tokens.clerk)).send({ dependsOnId: delivery.id });
    expect(cycle.status).toBe(409);
    expect(cycle.body.message).toMatch(/cycle/);
    const self = await t.http.post(`/api/v1/requests/${bouquet.id}/dependencies`).set(bearer(tokens.clerk)).send({ dependsOnId: bouquet.id });
    expect(self.status).toBe(409);
    const read = (await t.http.get(`/api/v1/requests/${delivery.id}`).set(bearer(tokens.clerk))).body;
    expect(read.dependsOn).toEqual([bouquet.id]);

    const a = (await raise('Race A')).body;
    const b = (await raise('Race B')).body;
    const [ab, ba] = await Promise.all([
      t.http.post(`/api/v1/requests/${a.id}/dependencies`).set(bearer(tokens.clerk)).send({ dependsOnId: b.id }),
      t.http.post(`/api/v1/requests/${b.id}/dependencies`).set(bearer(tokens.clerk)).send({ dependsOnId: a.id }),
    ]);
    expect([ab.status, ba.status].sort()).toEqual([201, 409]);

    expect((await t.http.delete(`/api/v1/requests/${delivery.id}/dependencies/${bouquet.id}`).set(bearer(tokens.clerk))).status).toBe(204);
    expect((await t.http.delete(`/api/v1/requests/${delivery.id}/dependencies/${bouquet.id}`).set(bearer(tokens.clerk))).status).toBe(404);
    const types = ((await t.http.get(`/api/v1/requests/${delivery.id}/events`).set(bearer(tokens.clerk))).body.items as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(['created', 'dependency_added', 'dependency_removed']);
  });

  it('accepts dependsOn at creation only for requests the requester is party to', async () => {
    const roses = (await raise('Roses for 2001', tokens.designer, shop.services.roses.id)).body;
    const hidden = await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'x', dependsOn: [roses.id] });
    expect(hidden.status).toBe(400);
    expect(hidden.body.details).toEqual([{ field: 'dependsOn[0]', message: 'no request you are party to has this id' }]);
    const ok = await t.http.post('/api/v1/requests').set(bearer(tokens.designer)).send({ serviceId: shop.services.delivery.id, title: 'Deliver 2001', dependsOn: [roses.id] });
    expect(ok.status).toBe(201);
    expect(ok.body.dependsOn).toEqual([roses.id]);
  });

  it('a chain is visible to every party of any of its requests, its requests only to their own parties', async () => {
    const roses = (await raise('Roses for 2002', tokens.designer, shop.services.roses.id)).body;
    const bouquet = (await raise('Bouquet for 2002')).body;
    // Design is party to both ends, so Design links them.
    expect((await t.http.post(`/api/v1/requests/${bouquet.id}/dependencies`).set(bearer(tokens.designer)).send({ dependsOnId: roses.id })).status).toBe(201);
    expect((await t.http.get(`/api/v1/chains/${bouquet.id}`).set(bearer(tokens.clerk))).status).toBe(200);
    expect((await t.http.get(`/api/v1/requests/${roses.id}`).set(bearer(tokens.clerk))).status).toBe(404);
    expect((await t.http.get(`/api/v1/chains/${roses.id}`).set(bearer(tokens.courier))).status).toBe(404);
  });
});
