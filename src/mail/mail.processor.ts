import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QueueName, type JobPayloads } from '../escalation/queues';
import { WORKER_LOCKS } from '../escalation/worker-locks';
import { MailSender, type SendOutcome } from './mail-sender';
import { MAIL_LANES } from './mail-transport';

/** A mail job sends its mail and whatever else is due, on one lane; retries are scheduled in PostgreSQL. */
@Processor(QueueName.Mail, { concurrency: MAIL_LANES, ...WORKER_LOCKS, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } })
export class MailProcessor extends WorkerHost {
  private readonly logger = new Logger('MailProcessor');

  constructor(private readonly sender: MailSender) {
    super();
  }

  async process(job: Job<JobPayloads[QueueName.Mail]>): Promise<SendOutcome> {
    return this.sender.send(job.data.mailId);
  }

  /** Redis trouble (a wiped key, a lost connection) is logged, never left to crash the worker: the reconciler repairs it. */
  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.warn(`queue worker: ${error.message}`);
  }
}
