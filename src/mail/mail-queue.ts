import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JOB_NAME, mailJobId, mailTakeoverJobId, QueueName, type JobPayloads } from '../escalation/queues';

/** A mail job claims up to this many mails at once: its own and others that are due (MailSender). */
export const MAILS_PER_JOB = 25;

/** Adds mail jobs for outbox rows; the same row twice is one job (its id is the row's). */
@Injectable()
export class MailQueue {
  private readonly logger = new Logger('MailQueue');

  constructor(@InjectQueue(QueueName.Mail) private readonly queue: Queue<JobPayloads[QueueName.Mail]>) {}

  /**
   * Mails written together, due now: one job per MAILS_PER_JOB of them (the first of each run),
   * since a job claims its own mail and the others that are due. Fewer jobs, and no lane held by a
   * job whose mail another job already took; whatever a job leaves, a later job or the reconciler takes.
   */
  enqueueDue(mailIds: readonly string[]): Promise<void> {
    return this.enqueue(mailIds.filter((_, i) => i % MAILS_PER_JOB === 0));
  }

  /** `notBefore`: a retry's next attempt; the job waits for it. `takeover`: mails whose claim a dead worker abandoned. */
  async enqueue(mailIds: readonly string[], notBefore?: ReadonlyMap<string, number>, takeover?: ReadonlySet<string>): Promise<void> {
    if (mailIds.length === 0) return;
    const now = Date.now();
    try {
      await this.queue.addBulk(
        mailIds.map((mailId) => ({
          name: JOB_NAME[QueueName.Mail],
          data: { mailId },
          // Retries are PostgreSQL's (next_attempt_at), not BullMQ's: a job sends, or leaves the row for a later one.
          opts: { jobId: takeover?.has(mailId) ? mailTakeoverJobId(mailId) : mailJobId(mailId), delay: Math.max(0, (notBefore?.get(mailId) ?? now) - now) },
        })),
      );
    } catch (error) {
      this.logger.warn(`Could not add ${mailIds.length} mail job(s); the reconciler will: ${(error as Error).message}`);
    }
  }
}
