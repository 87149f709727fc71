import { createServer } from 'node:net';
import { once } from 'node:events';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

describe('operations endpoints', () => {
  let t: TestApp;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp('operations');
    ({ tokens } = await withFlowerShop(t));
  });
  afterAll(() => t.close());

  it('GET /health is 200 when PostgreSQL and Redis answer, without a token', async () => {
    const answer = await t.http.get('/health');
    expect(answer.status).toBe(200);
    expect(answer.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
  });

  it('GET /metrics has the HTTP latency histogram by route pattern and status, and the process defaults', async () => {
    await t.http.get('/api/v1/me').set(bearer(tokens.clerk));
    await t.http.get('/api/v1/requests/00000000-0000-0000-0000-000000000000').set(bearer(tokens.clerk));
    const answer = await t.http.get('/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/me",status="200"\} [1-9]/);
    expect(answer.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/requests\/:id",status="404"\} [1-9]/);
    expect(answer.text).toContain('process_cpu_user_seconds_total');
    expect(answer.text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('GET /docs serves the OpenAPI UI and /docs-json documents every route of the SPEC', async () => {
    expect((await t.http.get('/docs')).status).toBe(200);
    const doc = (await t.http.get('/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    const expected: [string, string][] = [
      ['post', '/api/v1/auth/login'],
      ['get', '/api/v1/me'],
      ...['departments', 'users', 'calendars', 'services', 'agreements'].flatMap((r): [string, string][] => [
        ['post', `/api/v1/${r}`],
        ['get', `/api/v1/${r}`],
        ['get', `/api/v1/${r}/{id}`],
        ['patch', `/api/v1/${r}/{id}`],
      ]),
      ['post', '/api/v1/requests'],
      ['get', '/api/v1/requests'],
      ['get', '/api/v1/requests/{id}'],
      ['patch', '/api/v1/requests/{id}'],
      ['post', '/api/v1/requests/{id}/transitions'],
      ['post', '/api/v1/requests/{id}/comments'],
      ['get', '/api/v1/requests/{id}/events'],
      ['post', '/api/v1/requests/{id}/dependencies'],
      ['delete', '/api/v1/requests/{id}/dependencies/{dependsOnId}'],
    ];
    for (const [method, path] of expected) expect(doc.paths[path]?.[method]).toBeDefined();
    const createRequest = doc.paths['/api/v1/requests'].post as { responses: Record<string, unknown> };
    expect(Object.keys(createRequest.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '422']));
  });

  it('/docs-json gives every field its own type: no string or id documented as a bare object', async () => {
    type Schema = { type?: string; properties?: Record<string, Schema>; additionalProperties?: unknown; $ref?: string; items?: Schema };
    const doc = (await t.http.get('/docs-json')).body as { components: { schemas: Record<string, Schema> } };
    const bare: string[] = [];
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const [field, property] of Object.entries(schema.properties ?? {})) {
        if (property.type === 'object' && !property.properties && !property.additionalProperties) bare.push(`${name}.${field}`);
      }
    }
    expect(bare).toEqual([]);
    const create = doc.components.schemas.CreateRequestDto.properties!;
    expect(create.externalRef).toMatchObject({ type: 'string', maxLength: 200 });
    expect(create.neededBy).toMatchObject({ type: 'string', format: 'date-time' });
    expect(doc.components.schemas.CreateDepartmentDto.properties!.headUserId).toMatchObject({ type: 'string', format: 'uuid', nullable: true });
  });

  it('every answer carries a request id, echoed from X-Request-Id when given, and errors repeat it in the body', async () => {
    const answer = await t.http.get('/api/v1/requests/00000000-0000-0000-0000-000000000000').set(bearer(tokens.clerk)).set('X-Request-Id', 'trace-abc-123');
    expect(answer.status).toBe(404);
    expect(answer.headers['x-request-id']).toBe('trace-abc-123');
    expect(answer.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Request not found', requestId: 'trace-abc-123' });
    const generated = await t.http.get('/api/v1/me');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.body.requestId).toBe(generated.headers['x-request-id']);
  });

  it("every answer carries helmet's security headers: API answers, errors, unknown routes, the dashboard", async () => {
    const answers = [
      await t.http.get('/api/v1/me').set(bearer(tokens.clerk)),
      await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ title: 'no service' }),
      await t.http.get('/api/v1/no-such-route'),
      await t.http.get('/dashboard'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 400, 404, 200]);
    for (const answer of answers) {
      expect(answer.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-opener-policy': 'same-origin',
      });
      expect(answer.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
  });
});

describe('GET /health when Redis is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as { port: number }).port;
    closed.close();
    t = await startTestApp('health_down', { env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  });
  afterAll(() => t.close());

  it('answers 503 naming Redis as down', async () => {
    const answer = await t.http.get('/health');
    expect(answer.status).toBe(503);
    expect(answer.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'down' } });
  });
});
