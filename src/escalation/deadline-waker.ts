import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { QueueName, type JobPayloads } from './queues';

/** How often the waker looks for the next timer: one read of the earliest delayed job. */
const LOOK_EVERY_MS = 1000;
/** Fewest milliseconds between two wake-ups: in a burst the worker is awake anyway. */
const MIN_SPACING_MS = 25;

type DeadlineJob = Job<JobPayloads[QueueName.Deadlines]>;

/**
 * BullMQ's worker waits for its next delayed job with a blocking Redis command (BZPOPMIN) whose
 * timeout Redis checks on its own clock tick, ten times a second by default: with nothing else
 * going on, a timer fires 0–100 ms after its deadline (docs/escalation.md). The waker keeps a timer
 * of this process on the earliest pending deadline and at that instant promotes its job — BullMQ's
 * public way to make a delayed job ready, which wakes the waiting worker at once. It looks again
 * every second and after each wake-up, so a timer added more than a second ahead of its deadline,
 * by any process, is met on time; one added closer to it fires as BullMQ alone would fire it. A
 * job another worker promoted, or that was replaced, fails to promote: nothing to do.
 */
@Injectable()
export class DeadlineWaker implements OnApplicationBootstrap, OnModuleDestroy {
  private lookTimer?: NodeJS.Timeout;
  private lookInFlight: Promise<void> | null = null;
  private wake?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private lastWake = 0;
  private stopped = false;

  constructor(@InjectQueue(QueueName.Deadlines) private readonly queue: Queue<JobPayloads[QueueName.Deadlines]>) {}

  onApplicationBootstrap(): void {
    this.lookTimer = setInterval(() => void this.look(), LOOK_EVERY_MS);
    this.lookTimer.unref();
    void this.look();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.lookTimer);
    clearTimeout(this.wake);
  }

  /** One look at a time: with Redis away a read waits until it is back, and the looks must not pile up meanwhile. */
  private look(): Promise<void> {
    this.lookInFlight ??= this.arm().finally(() => (this.lookInFlight = null));
    return this.lookInFlight;
  }

  private async arm(): Promise<void> {
    let next: DeadlineJob | undefined;
    try {
      [next] = await this.queue.getDelayed(0, 0);
    } catch {
      return; // Redis trouble: BullMQ's own wait, or the reconciler, still fires it.
    }
    if (!next || this.stopped) return;
    const dueAt = next.timestamp + next.delay;
    if (dueAt - Date.now() > LOOK_EVERY_MS * 1.5) return;
    const at = Math.max(dueAt, this.lastWake + MIN_SPACING_MS);
    if (this.wake && at >= this.wakeAt) return;
    clearTimeout(this.wake);
    this.wakeAt = at;
    const job = next;
    this.wake = setTimeout(() => void this.fire(job), Math.max(0, at - Date.now()));
    this.wake.unref();
  }

  private async fire(job: DeadlineJob): Promise<void> {
    this.wake = undefined;
    this.wakeAt = Infinity;
    this.lastWake = Date.now();
    await job.promote().catch(() => undefined);
    if (!this.stopped) await this.look();
  }
}
