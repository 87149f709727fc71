import { InjectQueue } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { EntityManager } from 'typeorm';
import type { AgreementTerms } from '../agreements/agreement-terms';
import { ThrottledWarning } from '../common/throttled-warning';
import type { BusinessCalendar } from '../business-time';
import { spansOf } from '../requests/request-clock.service';
import type { RequestPause } from '../requests/request-pause.entity';
import type { ServiceRequest } from '../requests/request.entity';
import { returnedRows } from '../database/returned-rows';
import { RequestsRepository } from '../requests/requests.repository';
import { planDeadlines, type ClockFacts, type EscalationKind } from './deadline-plan';
import { EscalationsRepository } from './escalations.repository';
import { deadlineJobId, JOB_NAME, QueueName, type JobPayloads, type ScheduledDeadline } from './queues';

export type { ScheduledDeadline };

const ENQUEUE_TIMEOUT_MS = 1000;

export function clockFacts(request: ServiceRequest, pauses: readonly RequestPause[]): ClockFacts {
  return {
    createdAt: request.createdAt.getTime(),
    respondedAt: request.respondedAt ? request.respondedAt.getTime() : null,
    finished: request.status === 'resolved' || request.status === 'closed' || request.status === 'cancelled',
    paused: request.pausedSince !== null,
    pauses: spansOf(pauses, request.terms),
    responseTargetSeconds: request.terms.responseTargetSeconds,
    resolutionTargetSeconds: request.terms.resolutionTargetSeconds,
    warnAtPercent: request.terms.warnAtPercent,
    escalations: request.terms.escalations,
    chainCheckAt: request.chainCheckAt ? request.chainCheckAt.getTime() : null,
  };
}

/**
 * Keeps one timer per open request, at its next deadline. `replan` runs inside the transaction
 * that moved the clocks (new clock version, next deadline stored in PostgreSQL); `enqueue` (or
 * `schedule`, which does not wait for Redis's reply) runs after commit. If Redis is away the
 * request is still accepted: the reconciler adds the job later.
 */
@Injectable()
export class DeadlineScheduler implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DeadlineScheduler');
  /** Redis slow or away: one line per 10 s, counting the timers it did not confirm (their requests' next deadlines are on their rows). */
  private readonly unconfirmed = new ThrottledWarning(
    this.logger,
    10_000,
    (count, last) => `timers not confirmed by Redis: ${count} since the last such line (the reconciler adds any that did not land); last: ${last}`,
  );
  // Timers from requests handled in the same event-loop turn go to Redis in one addBulk.
  private batch: { jobs: ScheduledDeadline[]; flushed: Promise<void> } | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @InjectQueue(QueueName.Deadlines) private readonly queue: Queue<JobPayloads[QueueName.Deadlines]>,
    private readonly requests: RequestsRepository,
    private readonly escalations: EscalationsRepository,
  ) {}

  /** For a request being created: no pauses, nothing fired, clock version 1. */
  firstDeadline(calendar: BusinessCalendar, terms: AgreementTerms, createdAt: Date): { nextDeadlineAt: Date; nextDeadlineKind: EscalationKind } {
    const [first] = planDeadlines(
      calendar,
      {
        createdAt: createdAt.getTime(),
        respondedAt: null,
        finished: false,
        paused: false,
        pauses: [],
        responseTargetSeconds: terms.responseTargetSeconds,
        resolutionTargetSeconds: terms.resolutionTargetSeconds,
        warnAtPercent: terms.warnAtPercent,
        escalations: terms.escalations,
        chainCheckAt: null,
      },
      new Set(),
    );
    return { nextDeadlineAt: new Date(first.dueAt), nextDeadlineKind: first.kind };
  }

  /**
   * The clocks moved: bump the clock version (older timers become no-ops) and store the next
   * deadline. `known`: the request as this transaction holds it (locked, with what it wrote) and
   * all its pauses, when the caller has them already.
   */
  async replan(
    manager: EntityManager,
    requestId: string,
    calendar: BusinessCalendar,
    known?: { request: ServiceRequest; pauses: RequestPause[] },
  ): Promise<ScheduledDeadline | null> {
    const request = known?.request ?? (await this.requests.findById(requestId, manager))!;
    const pauses = known?.pauses ?? (await this.requests.pausesOf([requestId], manager));
    const fired = await this.escalations.firedKinds(manager, requestId);
    const next = planDeadlines(calendar, clockFacts(request, pauses), fired)[0] ?? null;
    const rows = returnedRows<{ clock_version: number }>(
      await manager.query(
        `UPDATE requests SET clock_version = clock_version + 1, next_deadline_at = $2, next_deadline_kind = $3 WHERE id = $1 RETURNING clock_version`,
        [requestId, next ? new Date(next.dueAt) : null, next?.kind ?? null],
      ),
    );
    const clockVersion = rows[0].clock_version;
    return next ? { requestId, clockVersion, kind: next.kind, dueAt: next.dueAt } : null;
  }

  /** After commit; resolves once the timers are in Redis (or left to the reconciler). */
  enqueue(deadlines: readonly (ScheduledDeadline | null)[]): Promise<void> {
    const jobs = deadlines.filter((d): d is ScheduledDeadline => d !== null);
    if (jobs.length === 0) return Promise.resolve();
    if (!this.batch) {
      const batch: { jobs: ScheduledDeadline[]; flushed: Promise<void> } = { jobs: [], flushed: Promise.resolve() };
      batch.flushed = new Promise((resolve) =>
        setImmediate(() => {
          this.batch = null;
          void this.add(batch.jobs).then(resolve);
        }),
      );
      this.inFlight.add(batch.flushed);
      void batch.flushed.then(() => this.inFlight.delete(batch.flushed));
      this.batch = batch;
    }
    this.batch.jobs.push(...jobs);
    return this.batch.flushed;
  }

  /**
   * After commit, on a call's answer path (a request created, patched, moved or commented): the
   * timer goes to Redis with this turn's batch, exactly as `enqueue` sends it, but the answer does
   * not wait for Redis's reply. Waiting protected nothing — the add is sent at the same instant
   * either way, and a process killed before it lands leaves the timer to the reconciler in both
   * cases — and it was a sixth of a create's latency (docs/benchmarks.md). Shutdown waits for it.
   */
  schedule(deadlines: readonly (ScheduledDeadline | null)[]): void {
    void this.enqueue(deadlines);
  }

  /** SIGTERM: timers handed over by answered calls reach Redis before the queue's connection closes (at most ENQUEUE_TIMEOUT_MS). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** `timestamp` + `delay` = the deadline, so a late add still fires on time. */
  private async add(jobs: ScheduledDeadline[]): Promise<void> {
    const now = Date.now();
    const adding = this.queue.addBulk(
      jobs.map((d) => ({
        name: JOB_NAME[QueueName.Deadlines],
        data: { requestId: d.requestId, dueAt: d.dueAt },
        // No retries or removal options per job (the worker removes finished ones; the reconciler re-adds a failed one).
        opts: { jobId: deadlineJobId(d), timestamp: now, delay: Math.max(0, d.dueAt - now) },
      })),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ENQUEUE_TIMEOUT_MS)));
    try {
      const outcome = await Promise.race([adding, timeout]);
      if (outcome === 'timeout') this.unconfirmed.note(jobs.length, `Redis did not answer within ${ENQUEUE_TIMEOUT_MS} ms`);
    } catch (error) {
      this.unconfirmed.note(jobs.length, (error as Error).message);
    } finally {
      clearTimeout(timer);
      adding.catch(() => undefined);
    }
  }
}
