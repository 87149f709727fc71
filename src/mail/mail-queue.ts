import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JOB_NAME, mailBacklogJobId, mailJobId, mailTakeoverJobId, QueueName, type JobPayloads } from '../escalation/queues';

/** A mail job claims up to this many mails at once: its own and others that are due (MailSender). */
export const MAILS_PER_JOB = 25;

/** The first of each run of MAILS_PER_JOB ids: a job claims its own mail and the rest of its run (and more). */
const firstOfEachRun = (mailIds: readonly string[]) => mailIds.filter((_, i) => i % MAILS_PER_JOB === 0);

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
    return this.enqueue(firstOfEachRun(mailIds));
  }

  /**
   * Mails a reconciler pass found due and unsent: their jobs may be lost (Redis wiped) or merely
   * behind a busy queue (a burst's backlog, most of whose mails never had a job of their own:
   * enqueueDue). One job per MAILS_PER_JOB of them is enough, since a job claims due mail until a
   * claim comes back short; one job per mail made a pass during a burst's backlog add thousands of
   * jobs, each a claim that found little. `pass` names the pass in the job ids, so its jobs are
   * added even where a job of the mail's own id sits in Redis (waiting, or active past its last claim).
   */
  enqueueBacklog(mailIds: readonly string[], pass: string): Promise<void> {
    return this.add(firstOfEachRun(mailIds).map((mailId) => ({ mailId, jobId: mailBacklogJobId(mailId, pass), delay: 0 })));
  }

  /** `notBefore`: a retry's next attempt; the job waits for it. `takeover`: mails whose claim a dead worker abandoned. */
  enqueue(mailIds: readonly string[], notBefore?: ReadonlyMap<string, number>, takeover?: ReadonlySet<string>): Promise<void> {
    const now = Date.now();
    return this.add(
      mailIds.map((mailId) => ({
        mailId,
        jobId: takeover?.has(mailId) ? mailTakeoverJobId(mailId) : mailJobId(mailId),
        delay: Math.max(0, (notBefore?.get(mailId) ?? now) - now),
      })),
    );
  }

  private async add(jobs: readonly { mailId: string; jobId: string; delay: number }[]): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await this.queue.addBulk(
        jobs.map(({ mailId, jobId, delay }) => ({
          name: JOB_NAME[QueueName.Mail],
          data: { mailId },
          // Retries are PostgreSQL's (next_attempt_at), not BullMQ's: a job sends, or leaves the row for a later one.
          opts: { jobId, delay },
        })),
      );
    } catch (error) {
      this.logger.warn(`Could not add ${jobs.length} mail job(s); the reconciler will: ${(error as Error).message}`);
    }
  }
}
