import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Test } from 'supertest';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { API, asAnswer, detailFields, expectError, Sweep, type Answer } from '../support/security-helpers';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

/**
 * A sweep of malformed calls: whatever arrives, the answer is never a 5xx, and every 4xx is the
 * one JSON error shape. Each test sends a family of bad inputs to every route it applies to and
 * lists all misbehaving calls at once.
 */

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'trace' | 'options' | 'head';
type Kind = 'text' | 'email' | 'uuid' | 'enum' | 'int' | 'bool' | 'duration' | 'timezone' | 'instant' | 'intervals' | 'holidays' | 'levels' | 'ids';

interface FieldSpec {
  kind: Kind;
  required?: boolean;
}

interface BodyRoute {
  label: string;
  method: 'post' | 'patch';
  path: () => string;
  /** The demo user that calls; '' for no token. */
  as: string;
  valid: () => Record<string, unknown>;
  fields: Record<string, FieldSpec>;
  /** Statuses a wrong-typed field may give besides 400 (the login throttle counts bad bodies too). */
  alsoOk?: number[];
}

/** Values that are not of the field's type (or not of its format), per kind. */
const WRONG: Record<Kind, unknown[]> = {
  text: [42, 0, -1.5, true, false, {}, { a: 'b' }, [], ['x']],
  email: [42, true, {}, ['a@b.example'], 'not-an-email', '', 'a@', '@flowers.example'],
  uuid: [42, true, {}, [], ['6f1c1a40-0000-4000-8000-000000000000'], 'not-a-uuid', '', '123', 'g'.repeat(36)],
  enum: [42, true, {}, [], ['normal'], 'bogus', '', 'NORMAL'],
  int: ['1', 'abc', '', true, {}, [], [1], 1.5, -1, 0, 1e20],
  bool: ['true', 'false', 1, 0, 'yes', {}, [], [true]],
  duration: [3600, true, {}, [], ['PT1H'], '', 'one hour'],
  timezone: [1, true, {}, [], ['UTC'], ''],
  instant: [1767225600, true, {}, [], ['2026-12-24T12:00:00Z'], '', 'tomorrow', '2026-12-24', '2026-12-24T12:00:00'],
  intervals: [42, 'x', true, {}, [1], ['x'], [null], [{ weekday: 1 }], [{ weekday: 1, start: 900, end: 1700 }]],
  holidays: [42, 'x', true, {}, [1], [null], [{}], [{ date: 20261225 }]],
  levels: [42, 'x', true, {}, [1], [null], [{}], [{ atPercent: '100', notify: 'ops' }], [{ atPercent: 100, notify: 'the-boss' }]],
  ids: [42, 'x', true, {}, [1], [null], [{}], ['not-a-uuid']],
};

/** Kinds whose right shape is a list: a list with wrong items may well be told about its items. */
const LIST_KINDS = new Set<Kind>(['intervals', 'holidays', 'levels', 'ids']);
/** Messages about a size or count limit: wrong for a value that is not even of the right kind. */
const SIZE_LIMIT = /at most|characters|elements|longer than|shorter than|twice/;

const MALFORMED_JSON = [
  '{',
  '{"title":',
  '{"a":}',
  '{"a":1,}',
  '{"a":1',
  '[1,2',
  'not json at all',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '{"a":"\\x41"}',
  '{"a":01}',
  '{"a":NaN}',
  '{"a":undefined}',
  '{"a":"unterminated}',
  ']',
  '\u0000',
  '{"a":1}garbage',
  '\uFEFF{"a":1',
];
const NON_OBJECT_JSON = ['[]', '[{}]', '[1,2,3]', '"a string"', '42', '-1.5', 'null', 'true', '""'];

const SIMPLE_BAD_IDS = ['not-a-uuid', '123', '%00', 'x'.repeat(2000), '00000000-0000-0000-0000-00000000000g', `{${'6f1c1a40-0000-4000-8000-000000000000'}}`, '6f1c1a40-0000-4000-8000-0000000000000', "'%20OR%201=1--", '%E2%82%AC', 'null', 'undefined', '-1'];
/** Odd encodings: a router may refuse these before the id is ever parsed, so 404 is fine too. */
const WEIRD_BAD_IDS = ['..%2F..%2Fetc%2Fpasswd', '%ZZ', '%', '6f1c1a40%2D0000-4000-8000-000000000000x', '%0d%0aX-Injected:%201'];

const BAD_ZONES: unknown[] = ['Mars/Olympus', '+02:00', 'UTC+1', '', 'GMT+1', 'UTC-05:00', ' Europe/Amsterdam', 'Europe/Amsterdam ', 'Europe/Atlantis', 'x'.repeat(100), 'Europe/Amsterdam\u0000', '../../etc/localtime', 42];
const BAD_DURATIONS: unknown[] = [
  'P1Y',
  'P1M',
  'PT',
  'P',
  '-PT1H',
  'PT1.5S',
  '4h',
  'PT99999999999H',
  'PT9007199254740993S',
  'P99999W',
  'PT0S',
  'P0D',
  '',
  ' PT1H',
  'PT1H ',
  'PT1H1H',
  'PT-1H',
  'PT1,5H',
  'P1DT',
  'T1H',
  'PT1H\u0000',
  3600,
];

describe('malformed input: no call ever answers 5xx, every 4xx has the error shape', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let totalCalls = 0;
  let seq = 0;
  const ids = { department: '', user: '', calendar: '', service: '', agreement: '', request: '', upstream: '' };
  const freshEmail = () => `sweep-${++seq}-${randomUUID().slice(0, 6)}@flowers.example`;
  const freshCode = () => `SW${++seq}${randomUUID().slice(0, 4)}`.toUpperCase();

  interface CallOptions {
    as?: string;
    body?: unknown;
    raw?: string;
    type?: string;
    headers?: Record<string, string>;
  }

  const send = async (method: Method, path: string, options: CallOptions = {}): Promise<Answer> => {
    let req: Test = t.http[method](path);
    if (options.as) req = req.set(bearer(tokens[options.as]));
    for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
    if (options.raw !== undefined) req = req.set('Content-Type', options.type ?? 'application/json').send(options.raw);
    else if (options.body !== undefined) req = req.send(options.body as object);
    totalCalls++;
    return asAnswer(await req);
  };

  /** Error answers without a requestId, gathered across the whole file and reported by one test at the end. */
  const missingRequestId: { call: string; status: number; message: string }[] = [];
  const sweep = () => new Sweep(missingRequestId);

  beforeAll(async () => {
    t = await startTestApp('malformed-input', { now: '2026-12-01T09:00:00Z' });
    ({ shop, tokens } = await withFlowerShop(t));
    const admin = bearer(tokens.admin);
    const created = async (path: string, body: object, who = admin) => {
      const res = await t.http.post(`${API}${path}`).set(who).send(body);
      if (res.status !== 201) throw new Error(`setup POST ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
      return (res.body as { id: string }).id;
    };
    ids.calendar = await created('/calendars', { name: 'Sweep hours', timezone: 'Europe/Amsterdam', weeklyHours: [{ weekday: 1, start: '09:00', end: '17:00' }] });
    ids.department = await created('/departments', { name: 'Sweep department', code: 'SWEEP', timezone: 'Europe/Amsterdam' });
    ids.user = await created('/users', { email: 'victor.victim@flowers.example', name: 'Victor', password: 'victim-password', departmentId: shop.departments.SALES.id, role: 'employee' });
    ids.service = await created('/services', { departmentId: shop.departments.DESIGN.id, code: 'SWEEP', name: 'Sweep service' });
    ids.agreement = await created('/agreements', { serviceId: ids.service, responseTarget: 'PT1H', resolutionTarget: 'PT4H' });
    ids.upstream = await created('/requests', { serviceId: shop.services.bouquet.id, title: 'Upstream for the sweep' }, bearer(tokens.clerk));
    ids.request = await created('/requests', { serviceId: shop.services.bouquet.id, title: 'Target of the sweep' }, bearer(tokens.clerk));
  });
  afterAll(() => t.close());

  const BODY_ROUTES: BodyRoute[] = [
    {
      label: 'POST /auth/login',
      method: 'post',
      path: () => '/auth/login',
      as: '',
      valid: () => ({ email: freshEmail(), password: 'not-the-password' }),
      fields: { email: { kind: 'email', required: true }, password: { kind: 'text', required: true } },
      alsoOk: [429],
    },
    {
      label: 'POST /departments',
      method: 'post',
      path: () => '/departments',
      as: 'admin',
      valid: () => ({ name: 'Florists', code: freshCode(), timezone: 'Europe/Amsterdam', calendarId: ids.calendar, headUserId: ids.user, escalationEmail: 'boss@flowers.example' }),
      fields: {
        name: { kind: 'text', required: true },
        code: { kind: 'text', required: true },
        timezone: { kind: 'timezone', required: true },
        calendarId: { kind: 'uuid' },
        headUserId: { kind: 'uuid' },
        escalationEmail: { kind: 'email' },
      },
    },
    {
      label: 'PATCH /departments/:id',
      method: 'patch',
      path: () => `/departments/${ids.department}`,
      as: 'admin',
      valid: () => ({ name: 'Sweep department' }),
      fields: { name: { kind: 'text' }, code: { kind: 'text' }, timezone: { kind: 'timezone' }, calendarId: { kind: 'uuid' }, headUserId: { kind: 'uuid' }, escalationEmail: { kind: 'email' } },
    },
    {
      label: 'POST /users',
      method: 'post',
      path: () => '/users',
      as: 'admin',
      valid: () => ({ email: freshEmail(), name: 'New Hire', password: 'long-enough-1', departmentId: shop.departments.SALES.id, role: 'employee' }),
      fields: {
        email: { kind: 'email', required: true },
        name: { kind: 'text', required: true },
        password: { kind: 'text', required: true },
        departmentId: { kind: 'uuid', required: true },
        role: { kind: 'enum', required: true },
      },
    },
    {
      label: 'PATCH /users/:id',
      method: 'patch',
      path: () => `/users/${ids.user}`,
      as: 'admin',
      valid: () => ({ name: 'Victor' }),
      fields: { name: { kind: 'text' }, password: { kind: 'text' }, departmentId: { kind: 'uuid' }, role: { kind: 'enum' }, active: { kind: 'bool' } },
    },
    {
      label: 'POST /calendars',
      method: 'post',
      path: () => '/calendars',
      as: 'admin',
      valid: () => ({ name: 'Hours', timezone: 'Europe/Amsterdam', alwaysOpen: false, weeklyHours: [{ weekday: 1, start: '09:00', end: '17:00' }], holidays: [{ date: '2026-12-25' }] }),
      fields: {
        name: { kind: 'text', required: true },
        timezone: { kind: 'timezone', required: true },
        alwaysOpen: { kind: 'bool' },
        weeklyHours: { kind: 'intervals' },
        holidays: { kind: 'holidays' },
      },
    },
    {
      label: 'PATCH /calendars/:id',
      method: 'patch',
      path: () => `/calendars/${ids.calendar}`,
      as: 'admin',
      valid: () => ({ name: 'Sweep hours' }),
      fields: { name: { kind: 'text' }, timezone: { kind: 'timezone' }, alwaysOpen: { kind: 'bool' }, weeklyHours: { kind: 'intervals' }, holidays: { kind: 'holidays' } },
    },
    {
      label: 'POST /services',
      method: 'post',
      path: () => '/services',
      as: 'admin',
      valid: () => ({ departmentId: shop.departments.DESIGN.id, code: freshCode(), name: 'Wreath', description: 'A wreath', leadTime: 'PT2H' }),
      fields: {
        departmentId: { kind: 'uuid', required: true },
        code: { kind: 'text', required: true },
        name: { kind: 'text', required: true },
        description: { kind: 'text' },
        leadTime: { kind: 'duration' },
      },
    },
    {
      label: 'PATCH /services/:id',
      method: 'patch',
      path: () => `/services/${ids.service}`,
      as: 'admin',
      valid: () => ({ name: 'Sweep service' }),
      fields: { code: { kind: 'text' }, name: { kind: 'text' }, description: { kind: 'text' }, leadTime: { kind: 'duration' }, active: { kind: 'bool' } },
    },
    {
      label: 'POST /agreements',
      method: 'post',
      path: () => '/agreements',
      as: 'admin',
      valid: () => ({
        serviceId: ids.service,
        customerDepartmentId: shop.departments.SALES.id,
        priority: 'high',
        responseTarget: 'PT1H',
        resolutionTarget: 'PT4H',
        calendarId: ids.calendar,
        warnAtPercent: 80,
        pauseWhileBlocked: true,
        escalations: [{ atPercent: 100, notify: 'provider_head' }],
      }),
      fields: {
        serviceId: { kind: 'uuid', required: true },
        customerDepartmentId: { kind: 'uuid' },
        priority: { kind: 'enum' },
        responseTarget: { kind: 'duration', required: true },
        resolutionTarget: { kind: 'duration', required: true },
        calendarId: { kind: 'uuid' },
        warnAtPercent: { kind: 'int' },
        pauseWhileBlocked: { kind: 'bool' },
        escalations: { kind: 'levels' },
      },
    },
    {
      label: 'PATCH /agreements/:id',
      method: 'patch',
      path: () => `/agreements/${ids.agreement}`,
      as: 'admin',
      valid: () => ({ warnAtPercent: 70 }),
      fields: {
        responseTarget: { kind: 'duration' },
        resolutionTarget: { kind: 'duration' },
        calendarId: { kind: 'uuid' },
        warnAtPercent: { kind: 'int' },
        pauseWhileBlocked: { kind: 'bool' },
        escalations: { kind: 'levels' },
        active: { kind: 'bool' },
      },
    },
    {
      label: 'POST /requests',
      method: 'post',
      path: () => '/requests',
      as: 'clerk',
      valid: () => ({
        serviceId: shop.services.bouquet.id,
        title: 'Bouquet',
        description: 'Red roses',
        priority: 'high',
        neededBy: '2026-12-24T12:00:00Z',
        externalRef: 'ORDER-1',
        externalDueAt: '2026-12-24T15:00:00+01:00',
        dependsOn: [ids.upstream],
      }),
      fields: {
        serviceId: { kind: 'uuid', required: true },
        title: { kind: 'text', required: true },
        description: { kind: 'text' },
        priority: { kind: 'enum' },
        neededBy: { kind: 'instant' },
        externalRef: { kind: 'text' },
        externalDueAt: { kind: 'instant' },
        dependsOn: { kind: 'ids' },
      },
    },
    {
      label: 'PATCH /requests/:id',
      method: 'patch',
      path: () => `/requests/${ids.request}`,
      as: 'admin',
      valid: () => ({ priority: 'normal', version: 1 }),
      fields: { assigneeId: { kind: 'uuid' }, priority: { kind: 'enum' }, version: { kind: 'int', required: true } },
    },
    {
      label: 'POST /requests/:id/transitions',
      method: 'post',
      path: () => `/requests/${ids.request}/transitions`,
      as: 'admin',
      valid: () => ({ to: 'acknowledged', comment: 'On it', version: 1 }),
      fields: { to: { kind: 'enum', required: true }, comment: { kind: 'text' }, version: { kind: 'int', required: true } },
    },
    {
      label: 'POST /requests/:id/comments',
      method: 'post',
      path: () => `/requests/${ids.request}/comments`,
      as: 'admin',
      valid: () => ({ body: 'Any news?' }),
      fields: { body: { kind: 'text', required: true } },
    },
    {
      label: 'POST /requests/:id/dependencies',
      method: 'post',
      path: () => `/requests/${ids.request}/dependencies`,
      as: 'admin',
      valid: () => ({ dependsOnId: ids.upstream }),
      fields: { dependsOnId: { kind: 'uuid', required: true } },
    },
  ];

  const callRoute = (route: BodyRoute, options: Omit<CallOptions, 'as'>) => send(route.method, `${API}${route.path()}`, { as: route.as || undefined, ...options });
  const label = (route: BodyRoute, what: string) => `${route.label} ${what}`;
  const show = (value: unknown) => {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 60)}…` : text;
  };

  describe.each(BODY_ROUTES.map((r) => [r.label, r] as const))('%s', (_name, route) => {
    it('a wrong type or format in any field answers 400 naming that field', async () => {
      const s = sweep();
      for (const [field, spec] of Object.entries(route.fields)) {
        for (const wrong of WRONG[spec.kind]) {
          const res = await callRoute(route, { body: { ...route.valid(), [field]: wrong } });
          s.record(label(route, `${field}=${show(wrong)}`), res, { status: [400, ...(field === 'email' ? (route.alsoOk ?? []) : [])], names: field });
        }
        // null: refused for a required field; an optional one may treat it as "not given" or as "clear it".
        const res = await callRoute(route, { body: { ...route.valid(), [field]: null } });
        s.record(label(route, `${field}=null`), res, spec.required ? { status: [400, ...(field === 'email' ? (route.alsoOk ?? []) : [])], names: field } : {});
      }
      s.assertClean();
    });

    it('a missing field is told it is required, a wrong-kind one what it must be, never a size limit it never reached', async () => {
      const misleading: string[] = [];
      const check = (what: string, res: Answer, field: string) => {
        const details = ((res.body as { details?: { field: string; message: string }[] }).details ?? []).filter(
          (d) => d.field === field || d.field.startsWith(`${field}.`) || d.field.startsWith(`${field}[`),
        );
        for (const d of details) if (SIZE_LIMIT.test(d.message)) misleading.push(`${label(route, what)} → ${d.field}: ${d.message}`);
        if (what.startsWith('without ') && res.status === 400 && !details.some((d) => d.field === field && d.message === 'is required')) {
          misleading.push(`${label(route, what)} → ${JSON.stringify(details)}`);
        }
      };
      for (const [field, spec] of Object.entries(route.fields)) {
        for (const wrong of WRONG[spec.kind].filter((value) => !Array.isArray(value) || !LIST_KINDS.has(spec.kind))) {
          check(`${field}=${show(wrong)}`, await callRoute(route, { body: { ...route.valid(), [field]: wrong } }), field);
        }
        if (spec.required) {
          const { [field]: _left, ...rest } = route.valid();
          check(`without ${field}`, await callRoute(route, { body: rest }), field);
        }
      }
      expect(misleading).toEqual([]);
    });

    it('malformed JSON answers 400', async () => {
      const s = sweep();
      for (const raw of MALFORMED_JSON) s.record(label(route, `raw ${show(raw)}`), await callRoute(route, { raw }), { status: [400] });
      s.assertClean();
    });

    it('a body that is an array, string, number or null answers 400', async () => {
      const s = sweep();
      for (const raw of NON_OBJECT_JSON) s.record(label(route, `raw ${raw}`), await callRoute(route, { raw }), { status: [400, ...(route.alsoOk ?? [])] });
      // An empty body is an empty object: fine for a PATCH of optional fields, a 400 for a create.
      s.record(label(route, 'empty body'), await callRoute(route, { raw: '' }));
      s.assertClean();
    });

    it('an unknown field is refused with 400 naming it, also nested and mass-assignment ones', async () => {
      const s = sweep();
      const unknown: [string, unknown][] = [
        ['bogusField', 1],
        ['id', randomUUID()],
        ['createdAt', '2020-01-01T00:00:00Z'],
        ['passwordHash', '$argon2id$v=19$m=65536,t=3,p=4$abc$def'],
        ['isAdmin', true],
        ['status', 'closed'],
        ['providerDepartmentId', shop.departments.PURCH.id],
        ['requesterId', shop.users.admin.id],
        ['constructor', { prototype: { isAdmin: true } }],
      ];
      for (const [field, value] of unknown) {
        if (field in route.fields) continue;
        const res = await callRoute(route, { body: { ...route.valid(), [field]: value } });
        s.record(label(route, `unknown ${field}`), res, { status: [400], names: field });
      }
      s.assertClean();
    });

    it('a body that is not JSON (text/plain, form-urlencoded, XML, multipart) never answers 5xx', async () => {
      const s = sweep();
      const json = JSON.stringify(route.valid());
      const form = new URLSearchParams(Object.entries(route.valid()).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString();
      s.record(label(route, 'text/plain'), await callRoute(route, { raw: json, type: 'text/plain' }));
      s.record(label(route, 'form-urlencoded'), await callRoute(route, { raw: form, type: 'application/x-www-form-urlencoded' }));
      s.record(label(route, 'application/xml'), await callRoute(route, { raw: '<request><title>x</title></request>', type: 'application/xml' }));
      s.record(label(route, 'multipart'), await callRoute(route, { raw: '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--\r\n', type: 'multipart/form-data; boundary=b' }));
      s.record(label(route, 'octet-stream'), await callRoute(route, { raw: json, type: 'application/octet-stream' }));
      s.record(label(route, 'json; charset=utf-16'), await callRoute(route, { raw: json, type: 'application/json; charset=utf-16' }), { status: [400, 415] });
      s.record(label(route, 'json; charset=bogus'), await callRoute(route, { raw: json, type: 'application/json; charset=klingon' }), { status: [400, 415] });
      s.record(label(route, 'Content-Encoding gzip, not gzipped'), await callRoute(route, { raw: json, headers: { 'Content-Encoding': 'gzip' } }), { status: [400, 415] });
      s.record(label(route, 'Content-Encoding bogus'), await callRoute(route, { raw: json, headers: { 'Content-Encoding': 'x-bogus' } }), { status: [400, 415] });
      s.assertClean();
    });
  });

  it('a "__proto__" key is refused like any unknown field on every route, and pollutes nothing', async () => {
    const s = sweep();
    for (const route of BODY_ROUTES) {
      // `__proto__` can only travel as raw JSON: in an object literal it would set the prototype instead.
      const raw = JSON.stringify(route.valid()).replace(/^\{/, '{"__proto__":{"isAdmin":true,"role":"admin","active":false},');
      s.record(label(route, 'with a __proto__ key'), await callRoute(route, { raw }), { status: [400], names: '__proto__' });
    }
    const probe: Record<string, unknown> = {};
    expect([probe.isAdmin, probe.role, probe.active]).toEqual([undefined, undefined, undefined]);
    s.assertClean();
  });

  describe('huge, odd and hostile text', () => {
    it('oversized fields answer 400 naming the field, oversized bodies 413', async () => {
      const s = sweep();
      const clerk = { as: 'clerk' };
      const bouquet = () => ({ serviceId: shop.services.bouquet.id, title: 'Huge' });
      const at = (path: string) => `${API}${path}`;
      s.record('100 kB title', await send('post', at('/requests'), { ...clerk, body: { ...bouquet(), title: 'x'.repeat(100_000) } }), { status: [400], names: 'title' });
      s.record('201-char title', await send('post', at('/requests'), { ...clerk, body: { ...bouquet(), title: 'x'.repeat(201) } }), { status: [400], names: 'title' });
      s.record('100 kB description', await send('post', at('/requests'), { ...clerk, body: { ...bouquet(), description: 'x'.repeat(100_000) } }), { status: [400], names: 'description' });
      s.record('300 kB description', await send('post', at('/requests'), { ...clerk, body: { ...bouquet(), description: 'x'.repeat(300_000) } }), { status: [413] });
      s.record('1 MB body', await send('post', at('/requests'), { ...clerk, raw: JSON.stringify({ ...bouquet(), description: 'y'.repeat(1_000_000) }) }), { status: [413] });
      s.record('100 kB comment', await send('post', at(`/requests/${ids.request}/comments`), { as: 'admin', body: { body: 'c'.repeat(100_000) } }), { status: [400], names: 'body' });
      s.record('300 kB comment', await send('post', at(`/requests/${ids.request}/comments`), { as: 'admin', body: { body: 'c'.repeat(300_000) } }), { status: [413] });
      s.record('100 kB department name', await send('post', at('/departments'), { as: 'admin', body: { name: 'n'.repeat(100_000), code: freshCode(), timezone: 'UTC' } }), { status: [400], names: 'name' });
      s.record('100 kB user name', await send('patch', at(`/users/${ids.user}`), { as: 'admin', body: { name: 'n'.repeat(100_000) } }), { status: [400], names: 'name' });
      s.record('100 kB password', await send('post', at('/auth/login'), { body: { email: freshEmail(), password: 'p'.repeat(100_000) } }), { status: [400], names: 'password' });
      s.record('100 kB email', await send('post', at('/auth/login'), { body: { email: `${'e'.repeat(100_000)}@x.example`, password: 'x' } }), { status: [400, 429], names: 'email' });
      const weekly = Array.from({ length: 150 }, (_, i) => ({ weekday: (i % 7) + 1, start: '09:00', end: '17:00' }));
      s.record('150 weekly intervals', await send('post', at('/calendars'), { as: 'admin', body: { name: 'Many', timezone: 'UTC', weeklyHours: weekly } }), { status: [400], names: 'weeklyHours' });
      const holidays = Array.from({ length: 2001 }, (_, i) => ({ date: `20${String(30 + Math.floor(i / 365)).padStart(2, '0')}-01-01` }));
      s.record('2001 holidays', await send('post', at('/calendars'), { as: 'admin', body: { name: 'Many', timezone: 'UTC', alwaysOpen: true, holidays } }), { status: [400], names: 'holidays' });
      const levels = Array.from({ length: 21 }, (_, i) => ({ atPercent: 10 + i, notify: 'ops' }));
      s.record('21 escalation levels', await send('patch', at(`/agreements/${ids.agreement}`), { as: 'admin', body: { escalations: levels } }), { status: [400], names: 'escalations' });
      const many = Array.from({ length: 51 }, () => randomUUID());
      s.record('51 dependencies', await send('post', at('/requests'), { ...clerk, body: { ...bouquet(), dependsOn: many } }), { status: [400], names: 'dependsOn' });
      s.record('the same dependency twice', await send('post', at('/requests'), { ...clerk, body: { ...bouquet(), dependsOn: [ids.upstream, ids.upstream] } }), { status: [400], names: 'dependsOn' });
      s.record('version 1e400 (Infinity)', await send('post', at(`/requests/${ids.request}/transitions`), { as: 'admin', raw: '{"to":"acknowledged","version":1e400}' }), { status: [400], names: 'version' });
      s.record('version 2^31', await send('post', at(`/requests/${ids.request}/transitions`), { as: 'admin', body: { to: 'acknowledged', version: 2 ** 31 } }), { status: [400], names: 'version' });
      s.record('version -0', await send('patch', at(`/requests/${ids.request}`), { as: 'admin', raw: '{"priority":"low","version":-0}' }), { status: [400], names: 'version' });
      s.record('2000 unknown keys', await send('patch', at(`/departments/${ids.department}`), { as: 'admin', body: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])) }), { status: [400], names: 'k0' });
      s.assertClean();
    });

    it('deeply nested JSON answers 400, not a stack overflow', async () => {
      const s = sweep();
      for (const depth of [100, 2_000, 20_000]) {
        const nestedArray = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        const nestedObject = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        s.record(`title nested ${depth} arrays deep`, await send('post', `${API}/requests`, { as: 'clerk', raw: `{"serviceId":"${shop.services.bouquet.id}","title":${nestedArray}}` }), { status: [400], names: 'title' });
        s.record(`unknown field nested ${depth} objects deep`, await send('post', `${API}/requests`, { as: 'clerk', raw: `{"serviceId":"${shop.services.bouquet.id}","title":"x","deep":${nestedObject}}` }), { status: [400], names: 'deep' });
        s.record(`weeklyHours nested ${depth} arrays deep`, await send('patch', `${API}/calendars/${ids.calendar}`, { as: 'admin', raw: `{"weeklyHours":${nestedArray}}` }), { status: [400], names: 'weeklyHours' });
        s.record(`escalations nested ${depth} objects deep`, await send('patch', `${API}/agreements/${ids.agreement}`, { as: 'admin', raw: `{"escalations":[${nestedObject}]}` }), { status: [400], names: 'escalations' });
      }
      s.assertClean();
    });

    // PostgreSQL refuses NUL in text; a lone surrogate is valid JSON but not Unicode (validator's isEmail threw on it).
    it.each([
      ['NUL', '\u0000'],
      ['a lone surrogate', '\ud800'],
    ])('%s in any text field answers 400 or is stored safely, never a 500', async (label, bad) => {
      const s = sweep();
      const badText = `Bouquet${bad}for order 7`;
      const at = (path: string) => `${API}${path}`;
      const bouquet = { serviceId: shop.services.bouquet.id };
      const fresh = await send('post', at('/requests'), { as: 'clerk', body: { ...bouquet, title: `For the ${label} transition` } });
      const cases: [string, Method, string, string, unknown][] = [
        ['request title', 'post', at('/requests'), 'clerk', { ...bouquet, title: badText }],
        ['request description', 'post', at('/requests'), 'clerk', { ...bouquet, title: 'x', description: badText }],
        ['request externalRef', 'post', at('/requests'), 'clerk', { ...bouquet, title: 'x', externalRef: badText }],
        ['comment body', 'post', at(`/requests/${ids.request}/comments`), 'admin', { body: badText }],
        ['transition comment', 'post', at(`/requests/${(fresh.body as { id: string }).id}/transitions`), 'designer', { to: 'acknowledged', version: 1, comment: badText }],
        ['department name', 'post', at('/departments'), 'admin', { name: badText, code: freshCode(), timezone: 'UTC' }],
        ['department code', 'post', at('/departments'), 'admin', { name: 'x', code: `A${bad}B`, timezone: 'UTC' }],
        ['department name (PATCH)', 'patch', at(`/departments/${ids.department}`), 'admin', { name: badText }],
        ['department escalationEmail', 'patch', at(`/departments/${ids.department}`), 'admin', { escalationEmail: `boss${bad}@flowers.example` }],
        ['user name', 'post', at('/users'), 'admin', { email: freshEmail(), name: badText, password: 'long-enough-1', departmentId: shop.departments.SALES.id, role: 'employee' }],
        ['user email', 'post', at('/users'), 'admin', { email: `user${bad}@flowers.example`, name: 'x', password: 'long-enough-1', departmentId: shop.departments.SALES.id, role: 'employee' }],
        ['user password', 'post', at('/users'), 'admin', { email: freshEmail(), name: 'x', password: `long${bad}enough-1`, departmentId: shop.departments.SALES.id, role: 'employee' }],
        ['user name (PATCH)', 'patch', at(`/users/${ids.user}`), 'admin', { name: badText }],
        ['calendar name', 'post', at('/calendars'), 'admin', { name: badText, timezone: 'UTC', alwaysOpen: true }],
        ['calendar name (PATCH)', 'patch', at(`/calendars/${ids.calendar}`), 'admin', { name: badText }],
        ['calendar holiday date', 'patch', at(`/calendars/${ids.calendar}`), 'admin', { holidays: [{ date: `2026-12-25${bad}` }] }],
        ['service name', 'post', at('/services'), 'admin', { departmentId: shop.departments.DESIGN.id, code: freshCode(), name: badText }],
        ['service description', 'post', at('/services'), 'admin', { departmentId: shop.departments.DESIGN.id, code: freshCode(), name: 'x', description: badText }],
        ['service description (PATCH)', 'patch', at(`/services/${ids.service}`), 'admin', { description: badText }],
        ['login email', 'post', at('/auth/login'), '', { email: `a${bad}@flowers.example`, password: 'x' }],
        ['login password', 'post', at('/auth/login'), '', { email: freshEmail(), password: badText }],
      ];
      for (const [what, method, path, who, body] of cases) {
        s.record(`${label} in ${what}`, await send(method, path, { as: who || undefined, body }), { status: [200, 201, 400, 401] });
      }
      const badCursor = Buffer.from(JSON.stringify([bad])).toString('base64url');
      for (const list of ['/users', '/departments', '/calendars', '/services', '/agreements']) {
        s.record(`${label} in the cursor of ${list}`, await send('get', `${API}${list}?cursor=${badCursor}`, { as: 'admin' }), { status: [200, 400] });
      }
      const badPair = Buffer.from(JSON.stringify(['2026-12-01T09:00:00.000Z', bad])).toString('base64url');
      s.record(`${label} in the cursor of /requests`, await send('get', `${API}/requests?cursor=${badPair}`, { as: 'admin' }), { status: [200, 400] });
      const escaped = bad === '\u0000' ? '%00' : '%ED%A0%80';
      s.record(`${label} in ?status`, await send('get', `${API}/requests?status=open${escaped}`, { as: 'admin' }), { status: [400], names: 'status' });
      s.record(`${label} in ?departmentId`, await send('get', `${API}/services?departmentId=${escaped}`, { as: 'admin' }), { status: [400], names: 'departmentId' });
      s.assertClean();
    });

    it('emoji, accents, right-to-left and zero-width text round-trip exactly', async () => {
      const titles = ['💐 Rozen 🌹 für Zoë — 東京', 'مرحبا بالعالم', 'zero\u200bwidth\u200djoiner', '\u202Eright-to-left override', 'e\u0301 combining accent', '👩‍👩‍👧‍👦 family emoji'];
      for (const title of titles) {
        const created = await send('post', `${API}/requests`, { as: 'clerk', body: { serviceId: shop.services.bouquet.id, title, description: `${title}\n\ttabbed` } });
        expect({ title, status: created.status }).toEqual({ title, status: 201 });
        const read = await send('get', `${API}/requests/${(created.body as { id: string }).id}`, { as: 'designer' });
        expect((read.body as { title: string }).title).toBe(title);
        expect((read.body as { description: string }).description).toBe(`${title}\n\ttabbed`);
      }
    });

    it('lone surrogates and other broken Unicode never answer 5xx', async () => {
      const s = sweep();
      for (const odd of ['\ud83d', '\udc00 trailing', 'a\ud800b', '\uffff\ufffe', '\u0007 bell \u001b[31m ansi']) {
        s.record(`title ${JSON.stringify(odd)}`, await send('post', `${API}/requests`, { as: 'clerk', body: { serviceId: shop.services.bouquet.id, title: odd } }), { status: [201, 400] });
        s.record(`department name ${JSON.stringify(odd)}`, await send('patch', `${API}/departments/${ids.department}`, { as: 'admin', body: { name: odd } }), { status: [200, 400] });
      }
      // Bytes that are not UTF-8 at all, sent as JSON.
      const latin1 = Buffer.from(`{"serviceId":"${shop.services.bouquet.id}","title":"caf\xe9 \xff\xfe"}`, 'latin1').toString('latin1');
      s.record('title in Latin-1 bytes', await send('post', `${API}/requests`, { as: 'clerk', raw: latin1 }), { status: [201, 400] });
      s.assertClean();
    });
  });

  describe('path parameters that are not UUIDs', () => {
    const ID_ROUTES: { label: string; method: Method; path: (id: string) => string; body?: () => object }[] = [
      { label: 'GET /departments/:id', method: 'get', path: (id) => `/departments/${id}` },
      { label: 'PATCH /departments/:id', method: 'patch', path: (id) => `/departments/${id}`, body: () => ({ name: 'x' }) },
      { label: 'GET /users/:id', method: 'get', path: (id) => `/users/${id}` },
      { label: 'PATCH /users/:id', method: 'patch', path: (id) => `/users/${id}`, body: () => ({ name: 'x' }) },
      { label: 'GET /calendars/:id', method: 'get', path: (id) => `/calendars/${id}` },
      { label: 'PATCH /calendars/:id', method: 'patch', path: (id) => `/calendars/${id}`, body: () => ({ name: 'x' }) },
      { label: 'GET /services/:id', method: 'get', path: (id) => `/services/${id}` },
      { label: 'PATCH /services/:id', method: 'patch', path: (id) => `/services/${id}`, body: () => ({ name: 'x' }) },
      { label: 'GET /agreements/:id', method: 'get', path: (id) => `/agreements/${id}` },
      { label: 'PATCH /agreements/:id', method: 'patch', path: (id) => `/agreements/${id}`, body: () => ({ warnAtPercent: 70 }) },
      { label: 'GET /requests/:id', method: 'get', path: (id) => `/requests/${id}` },
      { label: 'PATCH /requests/:id', method: 'patch', path: (id) => `/requests/${id}`, body: () => ({ priority: 'low', version: 1 }) },
      { label: 'POST /requests/:id/transitions', method: 'post', path: (id) => `/requests/${id}/transitions`, body: () => ({ to: 'acknowledged', version: 1 }) },
      { label: 'POST /requests/:id/comments', method: 'post', path: (id) => `/requests/${id}/comments`, body: () => ({ body: 'x' }) },
      { label: 'GET /requests/:id/events', method: 'get', path: (id) => `/requests/${id}/events` },
      { label: 'POST /requests/:id/dependencies', method: 'post', path: (id) => `/requests/${id}/dependencies`, body: () => ({ dependsOnId: ids.upstream }) },
      { label: 'DELETE /requests/:id/dependencies/:dependsOnId (bad :id)', method: 'delete', path: (id) => `/requests/${id}/dependencies/${ids.upstream}` },
      { label: 'DELETE /requests/:id/dependencies/:dependsOnId (bad :dependsOnId)', method: 'delete', path: (id) => `/requests/${ids.request}/dependencies/${id}` },
    ];

    it.each(ID_ROUTES.map((r) => [r.label, r] as const))('%s: a malformed id answers 400 naming the parameter, an unknown one 404', async (_label, route) => {
      const s = sweep();
      for (const bad of SIMPLE_BAD_IDS) {
        s.record(`${route.label} id=${bad.slice(0, 40)}`, await send(route.method, `${API}${route.path(bad)}`, { as: 'admin', body: route.body?.() }), {
          status: [400],
          names: route.label.includes('bad :dependsOnId') ? 'dependsOnId' : 'id',
        });
      }
      for (const bad of WEIRD_BAD_IDS) {
        s.record(`${route.label} id=${bad}`, await send(route.method, `${API}${route.path(bad)}`, { as: 'admin', body: route.body?.() }), { status: [400, 404] });
      }
      s.record(`${route.label} unknown id`, await send(route.method, `${API}${route.path(randomUUID())}`, { as: 'admin', body: route.body?.() }), { status: [404] });
      s.record(`${route.label} nil UUID`, await send(route.method, `${API}${route.path('00000000-0000-0000-0000-000000000000')}`, { as: 'admin', body: route.body?.() }), { status: [400, 404] });
      s.assertClean();
    });
  });

  describe('query parameters of the wrong type', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const PAGE_QUERIES: [string, string | null][] = [
      ['limit=abc', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=0', 'limit'],
      ['limit=1e9', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=101', 'limit'],
      ['limit=', 'limit'],
      ['limit=0x10', null],
      ['limit=Infinity', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['limit[a]=1', 'limit'],
      ['limit[]=1', 'limit'],
      ['cursor=!!!', 'cursor'],
      ['cursor=', null],
      [`cursor=${b64('garbage')}`, 'cursor'],
      [`cursor=${b64('{"a":1}')}`, 'cursor'],
      [`cursor=${b64('[1,2]')}`, 'cursor'],
      [`cursor=${b64('null')}`, 'cursor'],
      [`cursor=${'A'.repeat(600)}`, 'cursor'],
      ['cursor=a&cursor=b', 'cursor'],
      ['cursor[x]=1', 'cursor'],
      ['bogus=1', 'bogus'],
      ['__proto__[x]=1', null],
    ];
    /** Cursors of the right outer shape but nonsense inside: an empty page or a 400, never a 500. */
    const SHAPED_GARBAGE = [
      b64('["x"]'),
      b64('["x","y"]'),
      b64('["2026-99-99T99:99:99Z","6f1c1a40-0000-4000-8000-000000000000"]'),
      b64('["2026-12-01T09:00:00Z","not-a-uuid"]'),
      b64('["+275760-09-13T00:00:00.000Z","6f1c1a40-0000-4000-8000-000000000000"]'),
      b64('["99999999999999999999"]'),
      b64(`["${"'; DROP TABLE requests; --"}"]`),
    ];
    const LISTS = ['/departments', '/users', '/calendars', '/services', '/agreements', '/requests', '/requests/:id/events'];
    const EXTRA: Record<string, [string, string | null][]> = {
      '/services': [
        ['departmentId=abc', 'departmentId'],
        ['departmentId=', 'departmentId'],
        ['departmentId=a&departmentId=b', 'departmentId'],
      ],
      '/agreements': [
        ['serviceId=abc', 'serviceId'],
        ['serviceId[]=x', 'serviceId'],
      ],
      '/requests': [
        ['status=bogus', 'status'],
        ['status=open,', 'status'],
        ['status=OPEN', 'status'],
        ['status=', 'status'],
        ['status=open&status=bogus', 'status'],
        ['status[]=open', 'status'],
        ['breached=maybe', 'breached'],
        ['breached=1', 'breached'],
        ['breached=', 'breached'],
        ['breached=true&breached=false', 'breached'],
        ['atRisk=yes', 'atRisk'],
        ['providerDepartmentId=abc', 'providerDepartmentId'],
        ['customerDepartmentId=123', 'customerDepartmentId'],
        ['customerDepartmentId[$ne]=x', 'customerDepartmentId'],
      ],
    };

    it.each(LISTS)('GET %s refuses bad paging and filters with 400 naming the parameter', async (list) => {
      const s = sweep();
      const path = `${API}${list.replace(':id', ids.request)}`;
      for (const [query, field] of [...PAGE_QUERIES, ...(EXTRA[list] ?? [])]) {
        const res = await send('get', `${path}?${query}`, { as: 'admin' });
        s.record(`GET ${list}?${query.slice(0, 50)}`, res, field ? { status: [400], names: field } : { status: [200, 400] });
      }
      for (const cursor of SHAPED_GARBAGE) {
        const decoded = Buffer.from(cursor, 'base64url').toString();
        s.record(`GET ${list}?cursor=<${decoded.slice(0, 50)}>`, await send('get', `${path}?cursor=${cursor}`, { as: 'admin' }), { status: [200, 400] });
      }
      s.assertClean();
    });

    it('a well-formed page request still works (the control for the refusals above)', async () => {
      const first = await send('get', `${API}/requests?limit=1&status=open,acknowledged&breached=false`, { as: 'admin' });
      expect(first.status).toBe(200);
      const body = first.body as { items: unknown[]; nextCursor: string | null };
      expect(body.items).toHaveLength(1);
      expect(body.nextCursor).toEqual(expect.any(String));
      const second = await send('get', `${API}/requests?limit=1&status=open,acknowledged&breached=false&cursor=${body.nextCursor}`, { as: 'admin' });
      expect(second.status).toBe(200);
    });
  });

  describe('time zones, durations and calendars that make no sense', () => {
    it('invalid time zones answer 400 naming timezone on every route that takes one', async () => {
      const s = sweep();
      const routes: [string, Method, string, () => object][] = [
        ['POST /departments', 'post', '/departments', () => ({ name: 'Z', code: freshCode() })],
        ['PATCH /departments/:id', 'patch', `/departments/${ids.department}`, () => ({})],
        ['POST /calendars', 'post', '/calendars', () => ({ name: 'Z', alwaysOpen: true })],
        ['PATCH /calendars/:id', 'patch', `/calendars/${ids.calendar}`, () => ({})],
      ];
      for (const [name, method, path, base] of routes) {
        for (const zone of BAD_ZONES) {
          s.record(`${name} timezone=${JSON.stringify(zone).slice(0, 40)}`, await send(method, `${API}${path}`, { as: 'admin', body: { ...base(), timezone: zone } }), { status: [400], names: 'timezone' });
        }
      }
      s.assertClean();
    });

    it('invalid ISO-8601 durations answer 400 naming the field', async () => {
      const s = sweep();
      let priority = 0;
      const scopes = ['low', 'normal', 'high', 'urgent'];
      const routes: [string, Method, string, string, () => object][] = [
        ['POST /agreements', 'post', '/agreements', 'responseTarget', () => ({ serviceId: ids.service, priority: scopes[priority++ % 4], resolutionTarget: 'P30D' })],
        ['POST /agreements', 'post', '/agreements', 'resolutionTarget', () => ({ serviceId: ids.service, priority: scopes[priority++ % 4], responseTarget: 'PT1S' })],
        ['PATCH /agreements/:id', 'patch', `/agreements/${ids.agreement}`, 'responseTarget', () => ({})],
        ['PATCH /agreements/:id', 'patch', `/agreements/${ids.agreement}`, 'resolutionTarget', () => ({})],
        ['POST /services', 'post', '/services', 'leadTime', () => ({ departmentId: shop.departments.DESIGN.id, code: freshCode(), name: 'D' })],
        ['PATCH /services/:id', 'patch', `/services/${ids.service}`, 'leadTime', () => ({})],
      ];
      for (const [name, method, path, field, base] of routes) {
        for (const duration of BAD_DURATIONS) {
          s.record(`${name} ${field}=${JSON.stringify(duration).slice(0, 40)}`, await send(method, `${API}${path}`, { as: 'admin', body: { ...base(), [field]: duration } }), { status: [400], names: field });
        }
      }
      s.assertClean();
    });

    it('impossible calendars answer 400 naming the offending part', async () => {
      const s = sweep();
      const open = (interval: object) => ({ weeklyHours: [{ weekday: 1, start: '09:00', end: '17:00', ...interval }] });
      const holiday = (h: object) => ({ alwaysOpen: true, holidays: [{ date: '2026-12-25', ...h }] });
      const BAD: [string, object, string][] = [
        ['weekday 0', open({ weekday: 0 }), 'weeklyHours'],
        ['weekday 8', open({ weekday: 8 }), 'weeklyHours'],
        ['weekday 1.5', open({ weekday: 1.5 }), 'weeklyHours'],
        ['weekday "1"', open({ weekday: '1' }), 'weeklyHours'],
        ['weekday -1', open({ weekday: -1 }), 'weeklyHours'],
        ['weekday missing', { weeklyHours: [{ start: '09:00', end: '17:00' }] }, 'weeklyHours'],
        ['start 25:00', open({ start: '25:00' }), 'weeklyHours'],
        ['start 24:00', open({ start: '24:00' }), 'weeklyHours'],
        ['start 9:00', open({ start: '9:00' }), 'weeklyHours'],
        ['start 09:60', open({ start: '09:60' }), 'weeklyHours'],
        ['start 09:00:00', open({ start: '09:00:00' }), 'weeklyHours'],
        ['start 9am', open({ start: '9am' }), 'weeklyHours'],
        ['end 24:01', open({ end: '24:01' }), 'weeklyHours'],
        ['end 00:00', open({ end: '00:00' }), 'weeklyHours'],
        ['end before start', open({ start: '17:00', end: '09:00' }), 'weeklyHours'],
        ['end equal to start', open({ start: '09:00', end: '09:00' }), 'weeklyHours'],
        ['no open hours and not alwaysOpen', { alwaysOpen: false, weeklyHours: [] }, 'weeklyHours'],
        ['alwaysOpen "yes"', { alwaysOpen: 'yes' }, 'alwaysOpen'],
        ['holiday 2026-02-30', holiday({ date: '2026-02-30' }), 'holidays'],
        ['holiday 2025-02-29', holiday({ date: '2025-02-29' }), 'holidays'],
        ['holiday 2026-13-01', holiday({ date: '2026-13-01' }), 'holidays'],
        ['holiday 2026-00-10', holiday({ date: '2026-00-10' }), 'holidays'],
        ['holiday 2026-1-1', holiday({ date: '2026-1-1' }), 'holidays'],
        ['holiday 26-01-01', holiday({ date: '26-01-01' }), 'holidays'],
        ['holiday with a time', holiday({ date: '2026-12-25T00:00:00Z' }), 'holidays'],
        ['holiday 25/12/2026', holiday({ date: '25/12/2026' }), 'holidays'],
        ['holiday start after end', holiday({ start: '16:00', end: '12:00' }), 'holidays'],
        ['holiday start without end', holiday({ start: '16:00' }), 'holidays'],
        ['holiday end 25:00', holiday({ start: '16:00', end: '25:00' }), 'holidays'],
        ['holiday without a date', { alwaysOpen: true, holidays: [{ start: '09:00', end: '12:00' }] }, 'holidays'],
      ];
      for (const [what, definition, field] of BAD) {
        s.record(`POST /calendars ${what}`, await send('post', `${API}/calendars`, { as: 'admin', body: { name: 'Bad', timezone: 'Europe/Amsterdam', ...definition } }), { status: [400], names: field });
        s.record(`PATCH /calendars/:id ${what}`, await send('patch', `${API}/calendars/${ids.calendar}`, { as: 'admin', body: definition }), { status: [400], names: field });
      }
      s.assertClean();
      // None of the refused changes reached the calendar.
      const calendar = await send('get', `${API}/calendars/${ids.calendar}`, { as: 'admin' });
      expect((calendar.body as { weeklyHours: unknown }).weeklyHours).toEqual([{ weekday: 1, start: '09:00', end: '17:00' }]);
    });
  });

  describe('HTTP methods a route does not support', () => {
    const PATHS: [string, Method[]][] = [
      ['/api/v1/auth/login', ['post']],
      ['/api/v1/me', ['get']],
      ['/api/v1/departments', ['get', 'post']],
      ['/api/v1/departments/:department', ['get', 'patch']],
      ['/api/v1/users', ['get', 'post']],
      ['/api/v1/users/:user', ['get', 'patch']],
      ['/api/v1/calendars', ['get', 'post']],
      ['/api/v1/calendars/:calendar', ['get', 'patch']],
      ['/api/v1/services', ['get', 'post']],
      ['/api/v1/services/:service', ['get', 'patch']],
      ['/api/v1/agreements', ['get', 'post']],
      ['/api/v1/agreements/:agreement', ['get', 'patch']],
      ['/api/v1/requests', ['get', 'post']],
      ['/api/v1/requests/:request', ['get', 'patch']],
      ['/api/v1/requests/:request/transitions', ['post']],
      ['/api/v1/requests/:request/comments', ['post']],
      ['/api/v1/requests/:request/events', ['get']],
      ['/api/v1/requests/:request/dependencies', ['post']],
      ['/api/v1/requests/:request/dependencies/:upstream', ['delete']],
      ['/health', ['get']],
      ['/metrics', ['get']],
      ['/docs-json', ['get']],
      ['/api/v1', []],
      ['/api/v1/nowhere', []],
      ['/', []],
    ];
    const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete', 'trace'];
    const resolve = (path: string) => path.replace(/:(\w+)/g, (_m, key: keyof typeof ids) => ids[key]);

    it.each(PATHS.map(([path, allowed]) => [path, allowed.join(', ') || 'nothing', allowed] as const))(
      '%s (supports %s): every other method answers 404 or 405 in the error shape',
      async (path, _supported, allowed) => {
        const s = sweep();
        for (const method of METHODS.filter((m) => !allowed.includes(m))) {
          const res = await send(method, resolve(path), { as: 'admin', body: ['get', 'delete', 'trace'].includes(method) ? undefined : {} });
          s.record(`${method.toUpperCase()} ${path}`, res, { status: [404, 405] });
        }
        // HEAD answers carry no body, so only the status can be checked; OPTIONS may list the methods.
        const head = await send('head', resolve(path), { as: 'admin' });
        if (head.status >= 500) s.failures.push(`HEAD ${path}: ${head.status}`);
        s.calls++;
        const options = await send('options', resolve(path), { as: 'admin' });
        s.record(`OPTIONS ${path}`, options);
        s.assertClean();
      },
    );
  });

  describe('Idempotency-Key headers', () => {
    const raise = (key: string, title = `Keyed ${randomUUID().slice(0, 8)}`) =>
      send('post', `${API}/requests`, { as: 'clerk', body: { serviceId: shop.services.bouquet.id, title }, headers: { 'Idempotency-Key': key } });

    it('an empty, too long or non-printable key answers 400 naming the header', async () => {
      const s = sweep();
      // (Leading and trailing blanks are not here: HTTP strips them from header values before the app sees them.)
      const bad = ['', ' ', 'k'.repeat(256), 'k'.repeat(1000), 'k'.repeat(8000), 'tab\there', 'clé', 'caf\xe9\xff', 'space in key'];
      for (const key of bad) s.record(`Idempotency-Key ${JSON.stringify(key).slice(0, 40)}`, await raise(key), { status: [400], names: 'Idempotency-Key' });
      s.assertClean();
    });

    it('a well-formed key of 255 characters is honoured: the same key gives back the same request (the control)', async () => {
      const key = 'k'.repeat(254) + 'z';
      const first = await raise(key, 'Keyed once');
      const again = await raise(key, 'Keyed once');
      expect(first.status).toBe(201);
      expect([200, 201]).toContain(again.status);
      expect((again.body as { id: string }).id).toBe((first.body as { id: string }).id);
    });

    it('control characters that HTTP itself forbids are refused before or by the app, never with a 5xx', async () => {
      const server = t.app.getHttpServer() as Server;
      if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const body = JSON.stringify({ serviceId: shop.services.bouquet.id, title: 'raw' });
      const rawCall = (keyBytes: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          let answer = '';
          socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
          socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
          socket.on('end', () => resolve(answer));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
          socket.write(
            Buffer.from(
              `POST ${API}/requests HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${tokens.clerk}\r\nContent-Type: application/json\r\n` +
                `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nIdempotency-Key: ${keyBytes}\r\n\r\n${body}`,
              'latin1',
            ),
          );
        });
      const failures: string[] = [];
      for (const key of ['a\x00b', 'a\x01b', 'a\x7fb', 'a\x1bb', 'a\rb', 'a\x0bb', 'one\r\nIdempotency-Key: two']) {
        const answer = await rawCall(key);
        totalCalls++;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
        if (!(status >= 400 && status < 500)) failures.push(`${JSON.stringify(key)} → ${answer.split('\r\n')[0] || 'connection closed without an answer'}`);
        // When the app itself answered (JSON), it is the product's error shape.
        if (/content-type: application\/json/i.test(answer)) {
          const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/gi, '')) as Record<string, unknown>;
          expectError({ status, body: json, headers: { 'content-type': 'application/json' } });
        }
      }
      expect(failures).toEqual([]);
    });
  });

  describe('after the sweep', () => {
    it('the service is still healthy and answers normally', async () => {
      const health = await send('get', '/health');
      expect(health.status).toBe(200);
      const me = await send('get', `${API}/me`, { as: 'clerk' });
      expect(me.status).toBe(200);
      const created = await send('post', `${API}/requests`, { as: 'clerk', body: { serviceId: shop.services.bouquet.id, title: 'Still works' } });
      expect(created.status).toBe(201);
      expect(detailFields(created)).toEqual([]);
    });

    it('every error answer of the sweep carried a requestId, also those raised before routing (body parsing, URL decoding, unknown paths)', () => {
      // Grouped by answer, so one cause shows once with a few of the calls that met it.
      const byAnswer = new Map<string, string[]>();
      for (const { call, status, message } of missingRequestId) {
        const key = `${status} "${message.split(/["'(,]/)[0].trim().slice(0, 40)}…"`;
        byAnswer.set(key, [...(byAnswer.get(key) ?? []), call]);
      }
      const summary = [...byAnswer].map(([answer, calls]) => `${calls.length}× ${answer}  e.g. ${calls.slice(0, 3).join(' | ')}`);
      expect(summary).toEqual([]);
    });

    it('made several hundred calls', () => {
      if (process.env.SWEEP_REPORT) process.stdout.write(`malformed-input sweep: ${totalCalls} calls\n`);
      expect(totalCalls).toBeGreaterThan(800);
    });
  });
});
