import type { FlowerShop } from '../../src/demo/flower-shop';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

// Design's studio: Mon–Sat 08:00–12:00 and 12:30–17:00, Europe/Amsterdam (UTC+1 in December).
// 2026-12-01 is a Tuesday; 09:00Z is 10:00 in the studio.
describe('request clocks in the provider business hours', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp('clocks');
    ({ shop, tokens } = await withFlowerShop(t));
  });
  afterAll(() => t.close());

  const raise = async (body: Record<string, unknown>, token = tokens.clerk) => {
    const answer = await t.http.post('/api/v1/requests').set(bearer(token)).send(body);
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const move = async (id: string, to: string, version: number, token: string, comment?: string) => {
    const answer = await t.http.post(`/api/v1/requests/${id}/transitions`).set(bearer(token)).send({ to, version, comment });
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200 });
    return answer.body;
  };

  it('counts the targets across the lunch break, and urgent requests get the urgent agreement', async () => {
    t.clock.set('2026-12-01T09:00:00Z');
    const normal = await raise({ serviceId: shop.services.bouquet.id, title: 'Normal bouquet' });
    expect(normal.respondBy).toBe('2026-12-01T09:30:00.000Z');
    expect(normal.resolveBy).toBe('2026-12-01T12:30:00.000Z'); // 10:00-12:00 + 12:30-13:30
    const urgent = await raise({ serviceId: shop.services.bouquet.id, title: 'Urgent bouquet', priority: 'urgent' });
    expect(urgent.respondBy).toBe('2026-12-01T09:10:00.000Z');
    expect(urgent.resolveBy).toBe('2026-12-01T10:30:00.000Z');
    expect(urgent.agreement.resolutionTarget).toBe('PT90M');
  });

  it('starts a clock raised outside business hours at the next opening, and skips holidays', async () => {
    t.clock.set('2026-12-24T18:30:00Z'); // Thursday 19:30, after hours; the 25th and 26th are holidays, the 27th a Sunday
    const late = await raise({ serviceId: shop.services.bouquet.id, title: 'Christmas bouquet' });
    expect(late.respondBy).toBe('2026-12-28T07:30:00.000Z'); // Monday 08:30 local
  });

  it('a deadline at the close of an interval is that instant, not the next opening', async () => {
    t.clock.set('2026-12-01T08:30:00Z'); // 09:30 local; PT3H ends 09:30-12:00 (2.5 h) + 12:30-13:00
    const r = await raise({ serviceId: shop.services.bouquet.id, title: 'Closing-time bouquet' });
    expect(r.resolveBy).toBe('2026-12-01T12:00:00.000Z');
    t.clock.set('2026-12-01T08:00:00Z'); // 09:00 local: 3 h ends exactly at the 12:00 close
    const atClose = await raise({ serviceId: shop.services.bouquet.id, title: 'Noon bouquet' });
    expect(atClose.resolveBy).toBe('2026-12-01T11:00:00.000Z');
  });

  it('pauses while waiting on the customer, resumes on a customer reply, re-applies a new priority from the start, and excludes time spent resolved', async () => {
    t.clock.set('2026-12-01T09:00:00Z'); // 10:00 local
    let r = await raise({ serviceId: shop.services.bouquet.id, title: 'Bouquet with questions' });
    const id = r.id as string;

    t.clock.set('2026-12-01T09:05:00Z');
    r = await move(id, 'acknowledged', r.version, tokens.designer);
    expect(r.respondedAt).toBe('2026-12-01T09:05:00.000Z');
    expect(r.breached.response).toBe(false);
    r = await move(id, 'in_progress', r.version, tokens.designer);

    t.clock.set('2026-12-01T09:30:00Z'); // 10:30 local
    r = await move(id, 'waiting_on_customer', r.version, tokens.designer, 'Which colour of roses?');
    expect(r.paused).toBe(true);

    t.clock.set('2026-12-01T12:00:00Z'); // 13:00 local: paused 10:30-12:00 and 12:30-13:00 = 2 business hours
    const mid = (await t.http.get(`/api/v1/requests/${id}`).set(bearer(tokens.clerk))).body;
    expect(mid.pausedSeconds).toBe(7200);
    expect(mid.breached.resolution).toBe(false); // the clock stood still past the original 12:30Z deadline
    const reply = await t.http.post(`/api/v1/requests/${id}/comments`).set(bearer(tokens.clerk)).send({ body: 'Red, please' });
    expect(reply.status).toBe(201);
    r = (await t.http.get(`/api/v1/requests/${id}`).set(bearer(tokens.clerk))).body;
    expect(r.status).toBe('in_progress');
    expect(r.paused).toBe(false);
    expect(r.pausedSeconds).toBe(7200);
    expect(r.resolveBy).toBe('2026-12-01T14:30:00.000Z'); // 13:30 local moved out by 2 business hours

    const patched = await t.http.patch(`/api/v1/requests/${id}`).set(bearer(tokens.designHead)).send({ priority: 'urgent', version: r.version });
    expect(patched.status).toBe(200);
    r = patched.body;
    // PT90M from 10:00: 30 min worked before the pause, 60 min from 13:00 local.
    expect(r.resolveBy).toBe('2026-12-01T13:00:00.000Z');
    // The response clock stopped at 09:05Z: its deadline is final.
    expect(r.respondBy).toBe('2026-12-01T09:30:00.000Z');
    expect(r.pausedSeconds).toBe(7200);
    expect(r.breached).toEqual({ response: false, resolution: false });

    t.clock.set('2026-12-01T12:50:00Z'); // 13:50 local
    r = await move(id, 'resolved', r.version, tokens.designer);
    expect(r.resolvedAt).toBe('2026-12-01T12:50:00.000Z');
    expect(r.breached.resolution).toBe(false);

    t.clock.set('2026-12-01T13:50:00Z'); // the clerk reopens an hour later
    r = await move(id, 'in_progress', r.version, tokens.clerk, 'The ribbon is missing');
    expect(r.resolvedAt).toBeNull();
    // 50 min worked 13:00-13:50, 10 min left from 14:50 local.
    expect(r.resolveBy).toBe('2026-12-01T14:00:00.000Z');

    const events = (await t.http.get(`/api/v1/requests/${id}/events`).set(bearer(tokens.clerk))).body.items as { type: string }[];
    expect(events.map((e) => e.type)).toEqual([
      'created',
      'transitioned',
      'transitioned',
      'commented',
      'transitioned',
      'commented',
      'transitioned',
      'priority_changed',
      'transitioned',
      'commented',
      'transitioned',
    ]);
  });

  it('stops the response clock at the first provider comment and flags a late response as breached', async () => {
    t.clock.set('2026-12-01T09:00:00Z');
    const quiet = await raise({ serviceId: shop.services.bouquet.id, title: 'Nobody answers' });
    const answered = await raise({ serviceId: shop.services.bouquet.id, title: 'Answered by comment' });
    t.clock.set('2026-12-01T09:20:00Z');
    expect((await t.http.post(`/api/v1/requests/${answered.id}/comments`).set(bearer(tokens.designer)).send({ body: 'On it' })).status).toBe(201);
    t.clock.set('2026-12-01T09:45:00Z');
    const a = (await t.http.get(`/api/v1/requests/${answered.id}`).set(bearer(tokens.clerk))).body;
    expect(a.respondedAt).toBe('2026-12-01T09:20:00.000Z');
    expect(a.status).toBe('open');
    expect(a.breached.response).toBe(false);
    const q = (await t.http.get(`/api/v1/requests/${quiet.id}`).set(bearer(tokens.clerk))).body;
    expect(q.breached.response).toBe(true);
    const breachedList = (await t.http.get('/api/v1/requests?breached=true&limit=100').set(bearer(tokens.designHead))).body.items as { id: string }[];
    expect(breachedList.map((x) => x.id)).toContain(quiet.id);
    expect(breachedList.map((x) => x.id)).not.toContain(answered.id);
    const fineList = (await t.http.get('/api/v1/requests?breached=false&limit=100').set(bearer(tokens.designHead))).body.items as { id: string }[];
    expect(fineList.map((x) => x.id)).toContain(answered.id);
  });

  it('counts neither an admin of another department nor a blank comment as the first response', async () => {
    t.clock.set('2026-12-01T09:00:00Z');
    const r = await raise({ serviceId: shop.services.bouquet.id, title: 'Admin looks in' });
    const comment = (token: string, body: string) => t.http.post(`/api/v1/requests/${r.id}/comments`).set(bearer(token)).send({ body });
    t.clock.set('2026-12-01T09:05:00Z');
    const byAdmin = await comment(tokens.admin, 'Checking on this one');
    expect({ status: byAdmin.status, side: byAdmin.body.side, requestVersion: byAdmin.body.requestVersion }).toEqual({ status: 201, side: 'admin', requestVersion: r.version });
    for (const text of [' \n\t ', '\u200b', '\u00a0\ufeff']) {
      const blank = await comment(tokens.designer, text);
      expect({ text, status: blank.status, details: blank.body.details }).toEqual({ text, status: 400, details: [{ field: 'body', message: 'must not be blank' }] });
    }
    expect((await t.http.get(`/api/v1/requests/${r.id}`).set(bearer(tokens.clerk))).body).toMatchObject({ respondedAt: null, version: r.version });

    t.clock.set('2026-12-01T09:07:00Z');
    expect((await comment(tokens.designer, 'On it')).body).toMatchObject({ side: 'provider', requestVersion: r.version + 1 });
    const after = (await t.http.get(`/api/v1/requests/${r.id}`).set(bearer(tokens.clerk))).body;
    expect(after).toMatchObject({ respondedAt: '2026-12-01T09:07:00.000Z', version: r.version + 1 });
    expect((await comment(tokens.designer, 'Nearly done')).body.requestVersion).toBe(r.version + 1);
    const events = (await t.http.get(`/api/v1/requests/${r.id}/events`).set(bearer(tokens.clerk))).body.items as { type: string; before: unknown; after: Record<string, unknown> }[];
    expect(events.map((e) => e.type)).toEqual(['created', 'commented', 'commented', 'commented']);
    expect(events[1]).toMatchObject({ before: null, after: { comment: { side: 'admin' } } });
    expect(events[2]).toMatchObject({ before: { respondedAt: null }, after: { comment: { side: 'provider' }, respondedAt: '2026-12-01T09:07:00.000Z' } });
  });

  it('gives back the opened-under terms when a detour through another priority returns to the first agreement', async () => {
    t.clock.set('2026-12-03T09:00:00Z');
    const r = await raise({ serviceId: shop.services.roses.id, title: 'Roses, priority undecided', priority: 'low' }, tokens.designer);
    const opened = r.agreement as { id: string; version: number; resolutionTarget: string };
    const changed = await t.http.patch(`/api/v1/agreements/${opened.id}`).set(bearer(tokens.purchasingHead)).send({ resolutionTarget: 'PT6H' });
    expect(changed.body.version).toBe(opened.version + 1);
    let version = r.version as number;
    const patch = async (priority: string) => {
      const answer = await t.http.patch(`/api/v1/requests/${r.id}`).set(bearer(tokens.purchasingHead)).send({ priority, version });
      expect(answer.status).toBe(200);
      version = answer.body.version;
      return answer.body;
    };
    expect((await patch('urgent')).agreement.id).not.toBe(opened.id);
    const back = await patch('normal');
    expect(back).toMatchObject({ agreement: { id: opened.id, version: opened.version, resolutionTarget: opened.resolutionTarget }, resolveBy: r.resolveBy, respondBy: r.respondBy });
  });

  it('refuses null for what a PATCH cannot clear, and makes no agreement version out of nothing', async () => {
    const agreements = (await t.http.get(`/api/v1/agreements?serviceId=${shop.services.roses.id}`).set(bearer(tokens.ops))).body.items as { id: string; version: number; priority: string | null }[];
    const standard = agreements.find((a) => a.priority === null)!;
    const patchAgreement = (body: Record<string, unknown>) => t.http.patch(`/api/v1/agreements/${standard.id}`).set(bearer(tokens.ops)).send(body);
    for (const field of ['escalations', 'warnAtPercent', 'pauseWhileBlocked', 'responseTarget', 'resolutionTarget', 'active']) {
      const answer = await patchAgreement({ [field]: null });
      expect({ field, status: answer.status, refused: answer.body.details?.[0]?.field }).toEqual({ field, status: 400, refused: field });
    }
    for (const body of [{}, { warnAtPercent: 75 }, { responseTarget: 'PT1800S' }]) {
      const same = await patchAgreement(body);
      expect({ status: same.status, version: same.body.version }).toEqual({ status: 200, version: standard.version });
    }
    const calendar = shop.calendars.PURCH.id;
    for (const field of ['name', 'timezone', 'alwaysOpen', 'weeklyHours', 'holidays']) {
      const answer = await t.http.patch(`/api/v1/calendars/${calendar}`).set(bearer(tokens.ops)).send({ [field]: null });
      expect({ field, status: answer.status, refused: answer.body.details?.[0]?.field }).toEqual({ field, status: 400, refused: field });
    }
  });

  it('keeps the terms a request was opened under when its agreement changes', async () => {
    t.clock.set('2026-12-02T09:00:00Z');
    const before = await raise({ serviceId: shop.services.delivery.id, title: 'Deliver order 7' });
    const agreements = (await t.http.get(`/api/v1/agreements?serviceId=${shop.services.delivery.id}`).set(bearer(tokens.ops))).body.items as {
      id: string;
      priority: string | null;
      version: number;
    }[];
    const standard = agreements.find((a) => a.priority === null)!;
    const changed = await t.http.patch(`/api/v1/agreements/${standard.id}`).set(bearer(tokens.deliveryHead)).send({ resolutionTarget: 'PT2H' });
    expect(changed.status).toBe(200);
    expect(changed.body.version).toBe(standard.version + 1);
    const after = await raise({ serviceId: shop.services.delivery.id, title: 'Deliver order 8' });
    const old = (await t.http.get(`/api/v1/requests/${before.id}`).set(bearer(tokens.clerk))).body;
    expect(old.agreement.version).toBe(standard.version);
    expect(old.resolveBy).toBe(before.resolveBy);
    expect(after.agreement.version).toBe(standard.version + 1);
    expect(after.agreement.resolutionTarget).toBe('PT2H');
  });

  it('changes the priority of the clocks still running only, and never erases a breach', async () => {
    const patch = (id: string, body: Record<string, unknown>) => t.http.patch(`/api/v1/requests/${id}`).set(bearer(tokens.designHead)).send(body);
    t.clock.set('2026-12-03T09:00:00Z'); // Thursday 10:00 in the studio
    let r = await raise({ serviceId: shop.services.bouquet.id, title: 'Urgent, answered late', priority: 'urgent' });
    expect(r.respondBy).toBe('2026-12-03T09:10:00.000Z');
    t.clock.set('2026-12-03T09:20:00Z');
    r = await move(r.id, 'acknowledged', r.version, tokens.designer);
    expect(r.breached.response).toBe(true);

    // Normal would have given until 09:30Z to respond: the response given at 09:20Z stays late.
    const lowered = await patch(r.id, { priority: 'normal', version: r.version });
    expect(lowered.status).toBe(200);
    expect(lowered.body).toMatchObject({ priority: 'normal', respondBy: '2026-12-03T09:10:00.000Z', resolveBy: '2026-12-03T12:30:00.000Z', breached: { response: true, resolution: false } });
    expect(lowered.body.agreement.resolutionTarget).toBe('PT3H');

    t.clock.set('2026-12-03T12:00:00Z');
    r = await move(r.id, 'resolved', lowered.body.version, tokens.designer);
    const raised = await patch(r.id, { priority: 'urgent', version: r.version });
    expect({ status: raised.status, message: raised.body.message }).toEqual({ status: 409, message: expect.stringMatching(/final.*unless it is reopened/) });
    r = await move(r.id, 'closed', r.version, tokens.clerk);
    expect((await patch(r.id, { priority: 'urgent', version: r.version })).status).toBe(409);
    const after = (await t.http.get(`/api/v1/requests/${r.id}`).set(bearer(tokens.clerk))).body;
    expect(after).toMatchObject({ priority: 'normal', resolveBy: '2026-12-03T12:30:00.000Z', breached: { response: true, resolution: false }, version: r.version });
    // The assignee of a finished request may still change (nothing of its clocks depends on it).
    expect((await patch(r.id, { assigneeId: shop.users.designer.id, version: r.version })).status).toBe(200);
  });

  it('keeps the terms it was opened under when the new priority selects the same agreement', async () => {
    t.clock.set('2026-12-03T09:00:00Z');
    const r = await raise({ serviceId: shop.services.orderInfo.id, title: 'Order question' }, tokens.designer);
    const standard = (await t.http.get(`/api/v1/agreements/${r.agreement.id}`).set(bearer(tokens.ops))).body;
    const changed = await t.http.patch(`/api/v1/agreements/${standard.id}`).set(bearer(tokens.salesHead)).send({ resolutionTarget: 'PT24H' });
    expect(changed.status).toBe(200);
    const patched = await t.http.patch(`/api/v1/requests/${r.id}`).set(bearer(tokens.salesHead)).send({ priority: 'low', version: r.version });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ priority: 'low', respondBy: r.respondBy, resolveBy: r.resolveBy, agreement: { id: standard.id, version: standard.version, resolutionTarget: 'PT8H' } });
    const events = (await t.http.get(`/api/v1/requests/${r.id}/events`).set(bearer(tokens.designer))).body.items as { type: string; after: Record<string, unknown> }[];
    expect(events.at(-1)).toMatchObject({ type: 'priority_changed', after: { priority: 'low', agreementId: standard.id, agreementVersion: standard.version, resolveBy: r.resolveBy } });
  });

  it('applies the most specific agreement: customer + priority over customer over priority over the default', async () => {
    t.clock.set('2026-12-02T09:00:00Z');
    const base = { serviceId: shop.services.roses.id, title: 'Roses' };
    const forSales = await t.http
      .post('/api/v1/agreements')
      .set(bearer(tokens.purchasingHead))
      .send({ serviceId: shop.services.roses.id, customerDepartmentId: shop.departments.SALES.id, responseTarget: 'PT20M', resolutionTarget: 'PT3H' });
    expect(forSales.status).toBe(201);
    const forSalesUrgent = await t.http
      .post('/api/v1/agreements')
      .set(bearer(tokens.ops))
      .send({ serviceId: shop.services.roses.id, customerDepartmentId: shop.departments.SALES.id, priority: 'urgent', responseTarget: 'PT5M', resolutionTarget: 'PT1H' });
    expect(forSalesUrgent.status).toBe(201);
    expect((await raise({ ...base, priority: 'normal' })).agreement.id).toBe(forSales.body.id);
    expect((await raise({ ...base, priority: 'urgent' })).agreement.id).toBe(forSalesUrgent.body.id);
    // Design is another customer: it gets the service's urgent agreement, not Sales's.
    const fromDesign = await raise({ ...base, priority: 'urgent' }, tokens.designer);
    expect(fromDesign.agreement.resolutionTarget).toBe('PT2H');
    const duplicate = await t.http
      .post('/api/v1/agreements')
      .set(bearer(tokens.ops))
      .send({ serviceId: shop.services.roses.id, customerDepartmentId: shop.departments.SALES.id, responseTarget: 'PT20M', resolutionTarget: 'PT3H' });
    expect(duplicate.status).toBe(409);
  });

  describe('a calendar edit reaches the clocks still running in it', () => {
    // A UTC desk open around the clock Monday to Friday; 2026-12-07 is a Monday.
    let calendarId: string;
    let departmentId: string;
    let serviceId: string;
    const ops = () => bearer(tokens.ops);
    const admin = () => bearer(tokens.admin);
    const get = async (id: string) => (await t.http.get(`/api/v1/requests/${id}`).set(admin())).body;
    const weekdays = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: '00:00', end: '24:00' }));

    beforeAll(async () => {
      const calendar = await t.http.post('/api/v1/calendars').set(ops()).send({ name: 'Night desk', timezone: 'UTC', weeklyHours: weekdays });
      expect(calendar.status).toBe(201);
      calendarId = calendar.body.id;
      const department = await t.http.post('/api/v1/departments').set(admin()).send({ name: 'Night desk', code: 'NIGHT', timezone: 'UTC', calendarId });
      expect(department.status).toBe(201);
      departmentId = department.body.id;
      const service = await t.http.post('/api/v1/services').set(admin()).send({ departmentId, code: 'WATCH', name: 'Watch the shop' });
      expect(service.status).toBe(201);
      serviceId = service.body.id;
      const agreement = await t.http.post('/api/v1/agreements').set(admin()).send({ serviceId, responseTarget: 'PT4H', resolutionTarget: 'PT100H', calendarId });
      expect(agreement.status).toBe(201);
    });

    it('moves the deadlines of open requests at once, leaves stopped clocks alone, and says so in the timeline', async () => {
      t.clock.set('2026-12-07T00:00:00Z');
      const waiting = await raise({ serviceId, title: 'Nobody answered yet' });
      const answered = await raise({ serviceId, title: 'Answered' });
      const done = await raise({ serviceId, title: 'Done' });
      expect(waiting.respondBy).toBe('2026-12-07T04:00:00.000Z');
      expect(waiting.resolveBy).toBe('2026-12-11T04:00:00.000Z'); // Mon–Thu 96 h + 4 h on Friday
      t.clock.set('2026-12-07T01:00:00Z');
      await move(answered.id, 'acknowledged', answered.version, tokens.admin);
      await move(done.id, 'resolved', done.version, tokens.admin);

      t.clock.set('2026-12-07T02:00:00Z');
      const holidays = [{ date: '2026-12-07', start: '03:00', end: '05:00' }, { date: '2026-12-08' }];
      const edited = await t.http.patch(`/api/v1/calendars/${calendarId}`).set(ops()).send({ holidays });
      expect(edited.status).toBe(200);

      const moved = await get(waiting.id);
      expect(moved.respondBy).toBe('2026-12-07T06:00:00.000Z'); // 00:00–03:00, then 05:00–06:00
      expect(moved.resolveBy).toBe('2026-12-14T06:00:00.000Z'); // 22 h Monday, Tuesday closed, 72 h Wed–Fri, 6 h the next Monday
      expect(moved.version).toBe(waiting.version + 1);
      const events = (await t.http.get(`/api/v1/requests/${waiting.id}/events`).set(admin())).body.items as { type: string; actorId: string; before: unknown; after: unknown }[];
      expect(events[events.length - 1]).toMatchObject({
        type: 'deadlines_moved',
        actorId: shop.users.ops.id,
        before: { calendarId, respondBy: '2026-12-07T04:00:00.000Z', resolveBy: '2026-12-11T04:00:00.000Z' },
        after: { calendarId, respondBy: '2026-12-07T06:00:00.000Z', resolveBy: '2026-12-14T06:00:00.000Z' },
      });

      const stillAnswered = await get(answered.id);
      expect(stillAnswered.respondBy).toBe('2026-12-07T04:00:00.000Z'); // its response clock stopped at 01:00: kept, and met
      expect(stillAnswered.breached.response).toBe(false);
      expect(stillAnswered.resolveBy).toBe('2026-12-14T06:00:00.000Z');
      const stillDone = await get(done.id);
      expect(stillDone.resolveBy).toBe('2026-12-11T04:00:00.000Z');
      expect(stillDone.version).toBe(done.version + 1); // only its own move
    });

    it('refuses a calendar that would not open for ten years (400), changing nothing', async () => {
      const before = await t.http.get(`/api/v1/calendars/${calendarId}`).set(ops());
      const mondays = Array.from({ length: 540 }, (_, week) => ({ date: new Date(Date.UTC(2026, 11, 7 + 7 * week)).toISOString().slice(0, 10) }));
      const closed = await t.http.patch(`/api/v1/calendars/${calendarId}`).set(ops()).send({ weeklyHours: [weekdays[0]], holidays: mondays });
      expect(closed.status).toBe(400);
      expect(closed.body.details).toEqual([{ field: 'holidays', message: expect.stringContaining('no open time') }]);
      expect((await t.http.get(`/api/v1/calendars/${calendarId}`).set(ops())).body).toEqual(before.body);
    });

    it('refuses an edit under which an open request has no deadline within a century (422), changing nothing', async () => {
      const listed = await t.http.get(`/api/v1/requests?providerDepartmentId=${departmentId}`).set(admin());
      const open = listed.body.items as { id: string; version: number; resolveBy: string }[];
      expect(open).toHaveLength(3);
      const sparse = await t.http
        .patch(`/api/v1/calendars/${calendarId}`)
        .set(ops())
        .send({ weeklyHours: [{ weekday: 3, start: '12:00', end: '12:01' }], holidays: [] }); // one minute a week: PT100H is 115 years
      expect(sparse.status).toBe(422);
      expect(sparse.body.message).toMatch(/No deadline can be computed/);
      expect((await t.http.get(`/api/v1/calendars/${calendarId}`).set(ops())).body.weeklyHours).toEqual(weekdays);
      for (const request of open) expect(await get(request.id)).toMatchObject({ version: request.version, resolveBy: request.resolveBy });
    }, 30_000);

    it('refuses an agreement whose target its calendar cannot reach within a century (400)', async () => {
      const sparse = await t.http.post('/api/v1/calendars').set(ops()).send({ name: 'Wednesday noon', timezone: 'UTC', weeklyHours: [{ weekday: 3, start: '12:00', end: '12:01' }] });
      expect(sparse.status).toBe(201);
      const refused = await t.http.post('/api/v1/agreements').set(admin()).send({ serviceId, priority: 'high', responseTarget: 'PT1M', resolutionTarget: 'PT100H', calendarId: sparse.body.id });
      expect(refused.status).toBe(400);
      expect(refused.body.details).toEqual([{ field: 'resolutionTarget', message: expect.stringContaining('century') }]);
    }, 30_000);

    it('answers 422, not 500, for a request whose deadline would lie more than a century away', async () => {
      // The agreement was reachable when saved; its calendar was made sparse later, with no request open in it.
      const later = await t.http.post('/api/v1/calendars').set(ops()).send({ name: 'Made sparse later', timezone: 'UTC', weeklyHours: weekdays });
      const urgent = await t.http.post('/api/v1/agreements').set(admin()).send({ serviceId, priority: 'urgent', responseTarget: 'PT1M', resolutionTarget: 'PT100H', calendarId: later.body.id });
      expect(urgent.status).toBe(201);
      const thinned = await t.http.patch(`/api/v1/calendars/${later.body.id}`).set(ops()).send({ weeklyHours: [{ weekday: 3, start: '12:00', end: '12:01' }] });
      expect(thinned.status).toBe(200);
      const refused = await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId, title: 'Too far', priority: 'urgent' });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', message: expect.stringMatching(/century/) });
    }, 30_000);
  });
});
