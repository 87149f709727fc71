import { Writable } from 'node:stream';
import { AppConfig } from '../../src/common/app-config';
import { createLogger } from '../../src/common/logging';
import { DEMO_PASSWORD, type FlowerShop } from '../../src/demo/flower-shop';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  context?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
}

describe('request log', () => {
  let t: TestApp;
  let tokens: Record<string, string>;
  let shop: FlowerShop;
  const written: string[] = [];
  const lines = (): LogLine[] => written.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString('utf8'));
        done();
      },
    });
    t = await startTestApp('request_log', { logger: createLogger(AppConfig.with({ NODE_ENV: 'test' }), 'info', sink) });
    ({ shop, tokens } = await withFlowerShop(t));
  });
  afterAll(() => t.close());

  it('writes one line per call with the request id the client sent, and none for /health', async () => {
    await t.http.get('/health');
    const answer = await t.http.get('/api/v1/me').set(bearer(tokens.clerk)).set('X-Request-Id', 'trace-me-0001');
    expect(answer.status).toBe(200);
    const mine = lines().filter((l) => l.reqId === 'trace-me-0001');
    expect(mine).toEqual([expect.objectContaining({ msg: 'request completed', req: { method: 'GET', url: '/api/v1/me' }, res: { statusCode: 200 } })]);
    expect(lines().some((l) => l.req?.url === '/health')).toBe(false);
  });

  it('never writes a password or a token, not even one a client put in the query string', async () => {
    await t.http.post('/api/v1/auth/login').send({ email: 'clara.clerk@flowers.example', password: DEMO_PASSWORD });
    await t.http.get('/api/v1/me').set(bearer(tokens.clerk));
    await t.http
      .get(`/api/v1/requests?access_token=${tokens.clerk}&Password=${DEMO_PASSWORD}&status=open`)
      .set(bearer(tokens.clerk))
      .set('X-Request-Id', 'query-secrets-1');
    expect(lines().filter((l) => l.reqId === 'query-secrets-1').map((l) => l.req?.url)).toEqual([
      '/api/v1/requests?access_token=[redacted]&Password=[redacted]&status=open',
    ]);
    expect(lines().length).toBeGreaterThan(0);
    const all = written.join('');
    expect(all).not.toContain(DEMO_PASSWORD);
    expect(all).not.toContain(tokens.clerk);
  });

  it('a server error is logged by the code inside the call under the requestId the error answer names', async () => {
    // A broken database (a table gone) is what makes a 500 here: no input can.
    const created = await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'Logged' });
    expect(created.status).toBe(201);
    await t.dataSource.query('ALTER TABLE request_events RENAME TO request_events_gone');
    try {
      const answer = await t.http.get(`/api/v1/requests/${created.body.id}/events`).set(bearer(tokens.clerk));
      expect(answer.status).toBe(500);
      const id = answer.body.requestId as string;
      const mine = lines().filter((l) => l.reqId === id);
      expect(mine).toEqual([
        expect.objectContaining({ level: 50, context: 'HttpExceptionFilter', msg: 'unhandled error' }),
        expect.objectContaining({ level: 50, msg: 'request errored', res: { statusCode: 500 } }),
      ]);
    } finally {
      await t.dataSource.query('ALTER TABLE request_events_gone RENAME TO request_events');
    }
  });
});
