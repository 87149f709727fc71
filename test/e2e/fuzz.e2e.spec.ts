import fc from 'fast-check';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { describeAnswer, errorShapeProblems, type Answer } from '../support/security-helpers';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

/**
 * Random calls to every route the OpenAPI document lists, as any demo user or none: bodies built
 * from the route's own schema with values of every wrong kind, broken JSON, odd media types, bad
 * ids in paths, junk query strings. Whatever arrives, the answer is below 500 and every error is
 * the one JSON shape. The fixed sweeps (malformed-input) cover what we thought of; this found a
 * lone surrogate in an email field answering 500, which they had not.
 */

type Method = 'get' | 'post' | 'patch' | 'delete';

interface Operation {
  method: Method;
  path: string;
  /** Property names of the JSON body, when the route takes one. */
  fields: string[];
}

interface Call {
  method: Method;
  url: string;
  as: string;
  headers: Record<string, string>;
  body?: string;
}

const ROLES = ['admin', 'ops', 'salesHead', 'clerk', 'designer', 'courier'];

const PATH_PARAMS = ['00000000-0000-0000-0000-000000000000', 'not-a-uuid', '%ZZ', '%00', '%ED%A0%80', 'x'.repeat(3000), '1', '-1', "'", 'ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ'];

const QUERY_KEYS = ['limit', 'cursor', 'status', 'from', 'to', 'breached', 'atRisk', 'format', 'providerDepartmentId', 'customerDepartmentId', 'departmentId', 'groupBy'];

const MALFORMED = ['{', '{"a":', '[1,', 'nul', '{"title": "\\ud800"}', '\u0000', '{"a":1}}', '"str"', '12', '{"__proto__": {"x": 1}}', '['.repeat(60) + ']'.repeat(60)];

const MEDIA_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml', 'application/json; charset=utf-8'];

/** Values of every kind, including ones that look right (a real id, a real zone) in the wrong place. */
function oddValue(ids: string[]): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 0.5, 1e21, 2 ** 53 + 1, -2147483649, 'x', '', ' ', '\u0000', '\ud800', 'a\udc00b', '😀'),
    fc.constantFrom('2026-13-45T25:61:00Z', '2026-02-29', '2026-12-25', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', 'P1Y2M', 'PT-5M', 'PT0S', 'P99999Y'),
    fc.constantFrom('Mars/Olympus', 'Asia/Kathmandu', 'Pacific/Chatham', 'Australia/Lord_Howe', 'open', 'resolved', 'urgent', 'ops', 'ladder', 'NaN', '1e400', '9'.repeat(400)),
    fc.constantFrom(...ids, '00000000-0000-0000-0000-000000000000'),
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.double(),
  );
  return fc.oneof(
    { weight: 4, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('x'.repeat(300_000), Array(2000).fill('x'), [{ day: 8, start: '25:00', end: '24:00' }], [{ date: '2026-02-30' }], [{ level: -1, after: 'P1D', notify: ['nobody'] }]) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'day', 'start', 'end', 'date', 'level', 'after', 'notify'), scalar, { maxKeys: 3 }) },
  );
}

/** A query value as a client would write it (fast-check's dictionaries have no prototype, so no String()). */
const asText = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null'));

function callOf(operations: Operation[], ids: string[]): fc.Arbitrary<Call> {
  const value = oddValue(ids);
  return fc
    .record({
      operation: fc.constantFrom(...operations),
      pathParams: fc.array(fc.constantFrom(...PATH_PARAMS, ...ids), { minLength: 4, maxLength: 4 }),
      query: fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), value), { maxLength: 3 }),
      as: fc.constantFrom(...ROLES, '', 'tampered'),
      bodyKind: fc.constantFrom('schema', 'schema', 'schema', 'scalar', 'malformed', 'media', 'idempotent'),
      values: fc.array(fc.option(value, { nil: undefined }), { minLength: 12, maxLength: 12 }),
      extraKey: fc.option(fc.constantFrom('unknown', 'constructor', '__proto__', 'id', 'version'), { nil: undefined }),
      raw: fc.constantFrom(...MALFORMED),
      mediaType: fc.constantFrom(...MEDIA_TYPES),
      idempotencyKey: fc.constantFrom('k1', '', 'x'.repeat(300), 'tab\there'),
    })
    .map(({ operation, pathParams, query, as, bodyKind, values, extraKey, raw, mediaType, idempotencyKey }) => {
      let i = 0;
      const path = operation.path.replace(/\{[^}]+\}/g, () => pathParams[i++ % pathParams.length]);
      const search = query.map(([k, v]) => `${k}=${encodeURIComponent(asText(v).replace(/[\ud800-\udfff]/g, '?'))}`).join('&');
      const call: Call = { method: operation.method, url: search ? `${path}?${search}` : path, as, headers: {} };
      if (operation.method === 'get' || operation.method === 'delete') return call;
      const fields: Record<string, unknown> = {};
      operation.fields.forEach((field, n) => {
        if (values[n % values.length] !== undefined) fields[field] = values[n % values.length];
      });
      if (extraKey) fields[extraKey] = values[0] ?? 1;
      if (bodyKind === 'malformed') {
        call.headers['content-type'] = 'application/json';
        call.body = raw;
      } else if (bodyKind === 'media') {
        call.headers['content-type'] = mediaType;
        call.body = 'a=1';
      } else {
        call.headers['content-type'] = 'application/json';
        call.body = JSON.stringify(bodyKind === 'scalar' ? (values[0] ?? null) : fields);
        if (bodyKind === 'idempotent') call.headers['idempotency-key'] = idempotencyKey;
      }
      return call;
    });
}

describe('random calls to every documented route', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let operations: Operation[];
  let ids: string[];

  beforeAll(async () => {
    t = await startTestApp('fuzz');
    ({ shop, tokens } = await withFlowerShop(t));
    const doc = (await t.http.get('/docs-json')).body as {
      paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    operations = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!['get', 'post', 'patch', 'delete'].includes(method)) continue;
        const ref = op.requestBody?.content?.['application/json']?.schema?.$ref;
        const schema = ref ? doc.components.schemas[ref.split('/').pop()!] : undefined;
        operations.push({ method: method as Method, path, fields: Object.keys(schema?.properties ?? {}) });
      }
    }
    const created = await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'Fuzzed' });
    ids = [created.body.id as string, shop.services.bouquet.id, shop.departments.DESIGN.id, shop.users.designer.id];
  });
  afterAll(() => t.close());

  it('reads the routes from /docs-json', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((o) => o.fields.length > 0).length).toBeGreaterThan(10);
  });

  it('never answers 5xx, and every error is the one JSON shape', async () => {
    await fc.assert(
      fc.asyncProperty(callOf(operations, ids), async (call) => {
        let request = t.http[call.method](call.url);
        if (call.as === 'tampered') request = request.set('Authorization', `Bearer ${tokens.clerk.slice(0, -4)}AAAA`);
        else if (call.as) request = request.set(bearer(tokens[call.as]));
        for (const [name, value] of Object.entries(call.headers)) request = request.set(name, value);
        const res = call.body === undefined ? await request : await request.send(call.body);
        const answer: Answer = { status: res.status, body: res.body, headers: res.headers, text: res.text };
        const what = `${call.method.toUpperCase()} ${call.url.slice(0, 200)} as ${call.as || 'nobody'} ${(call.body ?? '').slice(0, 200)} -> ${describeAnswer(answer)}`;
        if (res.status >= 500) throw new Error(`server error: ${what}`);
        if (res.status >= 400) {
          const problems = errorShapeProblems(answer);
          if (problems.length) throw new Error(`not the error shape (${problems.join('; ')}): ${what}`);
        }
      }),
      { numRuns: 4000 },
    );
    // ~10 s here; room for a slower machine running other test files beside it.
  }, 180_000);
});
