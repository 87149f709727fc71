import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { AppConfig } from '../../src/common/app-config';
import { DeadlineWaker } from '../../src/escalation/deadline-waker';
import { bullConnection } from '../../src/escalation/queues.module';
import { QueueName, type JobPayloads } from '../../src/escalation/queues';
import { deleteKeysUnder } from '../../src/operations/redis-client';

// BullMQ's worker would wait for a delayed job with a blocking command whose timeout Redis checks
// ten times a second; the waker promotes the job at its deadline instead. No worker here: without
// the waker nothing would make these jobs ready at all.
describe('the deadline waker: a timer becomes ready at its deadline, not on Redis\'s next tick', () => {
  const redisUrl = AppConfig.with({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) }).redisUrl;
  const prefix = `handoff-test-waker-${randomUUID().slice(0, 8)}`;
  let queue: Queue<JobPayloads[QueueName.Deadlines]>;
  let waker: DeadlineWaker;

  beforeAll(async () => {
    queue = new Queue(QueueName.Deadlines, { connection: bullConnection(redisUrl), prefix });
    await queue.waitUntilReady();
    waker = new DeadlineWaker(queue);
  });
  afterAll(async () => {
    waker.onModuleDestroy();
    await queue.close();
    await deleteKeysUnder(redisUrl, prefix);
  });

  const readyAt = async (jobId: string, timeoutMs: number): Promise<number> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const state = await queue.getJobState(jobId);
      if (state === 'waiting') return Date.now();
      if (Date.now() > until) throw new Error(`job ${jobId} still ${state} ${timeoutMs} ms on`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  it('promotes each timer at its deadline, never before: those added ahead and one added after the waker started', async () => {
    const now = Date.now();
    const add = (id: string, dueAt: number) =>
      queue.add('due', { requestId: randomUUID(), dueAt }, { jobId: id, timestamp: now, delay: dueAt - now });
    await add('first', now + 1200);
    await add('second', now + 1700);
    waker.onApplicationBootstrap();
    // Added while the waker waits for 'first', due before 'second': found when it looks again.
    await add('sooner', now + 1450);

    const first = await readyAt('first', 5000);
    const sooner = await readyAt('sooner', 5000);
    const second = await readyAt('second', 5000);
    expect(first).toBeGreaterThanOrEqual(now + 1200);
    expect(sooner).toBeGreaterThanOrEqual(now + 1450);
    expect(second).toBeGreaterThanOrEqual(now + 1700);
    expect((await queue.getJobCounts('delayed', 'waiting'))).toEqual({ delayed: 0, waiting: 3 });
  });
});
