import Redis from 'ioredis';
import { deadlineJobId } from '../../src/escalation/queues';
import type { EscalationKind } from '../../src/escalation/deadline-plan';
import { waitUntil } from '../support/fast-sla';
import { HoldingProxy } from '../support/holding-proxy';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';
import type { FlowerShop } from '../../src/demo/flower-shop';

const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

/**
 * A call that changes a request answers once the change is committed; its timer follows to Redis
 * in the same turn but the answer does not wait for Redis's reply. Redis is reached through a proxy
 * that holds what the app sends, so "answered before the timer got through" is an observed order of events.
 */
describe('timers after the answer', () => {
  const proxy = new HoldingProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  const redis = new Redis(redisUrl.toString(), { lazyConnect: true });
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    const address = await proxy.start();
    t = await startTestApp('timers_after_answer', { env: { REDIS_URL: `redis://${address}` } });
    ({ shop, tokens } = await withFlowerShop(t));
    await redis.connect();
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
    redis.disconnect();
  });

  const timerInRedis = async (requestId: string) => {
    const [row] = (await t.dataSource.query('SELECT clock_version, next_deadline_kind FROM requests WHERE id = $1', [requestId])) as {
      clock_version: number;
      next_deadline_kind: EscalationKind;
    }[];
    const jobId = deadlineJobId({ requestId, clockVersion: row.clock_version, kind: row.next_deadline_kind, dueAt: 0 });
    return (await redis.exists(`${t.queuePrefix}:deadlines:${jobId}`)) === 1;
  };

  const create = async (title: string) => {
    const created = await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title });
    expect(created.status).toBe(201);
    return created.body as { id: string; version: number };
  };

  it.each<[string, () => Promise<() => Promise<string>>]>([
    ['a create', async () => async () => (await create('Answered first')).id],
    [
      'a transition',
      async () => {
        const request = await create('Acknowledged');
        await waitUntil(() => timerInRedis(request.id), 5000, () => 'the first timer in Redis');
        return async () => {
          const moved = await t.http.post(`/api/v1/requests/${request.id}/transitions`).set(bearer(tokens.designer)).send({ to: 'acknowledged', version: request.version });
          expect(moved.status).toBe(200);
          return request.id;
        };
      },
    ],
  ])('%s is answered while its timer is still held on the way to Redis; the timer lands once let through', async (_what, prepare) => {
    const call = await prepare();
    proxy.hold();
    let released = false;
    // Under a second: before the change, the answer waited for Redis's reply (up to ENQUEUE_TIMEOUT_MS, 1 s).
    const release = setTimeout(() => {
      released = true;
      proxy.release();
    }, 900);
    try {
      const requestId = await call();
      expect(released).toBe(false);
      clearTimeout(release);
      expect(await timerInRedis(requestId)).toBe(false);
      // The add is on its way: sent, and waiting in the proxy.
      await waitUntil(() => proxy.heldBytes > 0, 5000, () => 'the timer sent towards Redis');
      expect(await timerInRedis(requestId)).toBe(false);
      proxy.release();
      await waitUntil(() => timerInRedis(requestId), 5000, () => `the timer of ${requestId} in Redis`);
    } finally {
      clearTimeout(release);
      proxy.release();
    }
  });
});
