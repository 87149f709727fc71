import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { EscalationService } from './escalation.service';
import { QueueName, type JobPayloads } from './queues';
import { WORKER_LOCKS } from './worker-locks';

/**
 * Timers that fire together share one sweep (EscalationService.fireDue), so a job mostly waits:
 * many may be in flight at once without holding a database connection each.
 */
const DEADLINE_CONCURRENCY = 64;

/** Deadline timers: each job triggers a sweep that fires only what is still due. */
@Processor(QueueName.Deadlines, { concurrency: DEADLINE_CONCURRENCY, ...WORKER_LOCKS, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } })
export class DeadlineProcessor extends WorkerHost {
  private readonly logger = new Logger('DeadlineProcessor');

  constructor(private readonly escalations: EscalationService) {
    super();
  }

  async process(job: Job<JobPayloads[QueueName.Deadlines]>): Promise<{ fired: string[] }> {
    return this.escalations.fireDue(job.data.dueAt);
  }

  /** Redis trouble (a wiped key, a lost connection) is logged, never left to crash the worker: the reconciler repairs it. */
  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.warn(`queue worker: ${error.message}`);
  }
}
