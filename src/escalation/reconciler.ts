import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../common/app-config';
import { MailQueue } from '../mail/mail-queue';
import { STALE_CLAIM_SECONDS } from '../mail/claims';
import { DeadlineScheduler } from './deadline-scheduler';
import type { EscalationKind } from './deadline-plan';
import { EscalationsRepository } from './escalations.repository';

const BATCH = 1000;
// Timers due within the next interval (plus a margin) are (re)added each pass; later ones wait for a later pass.
const MARGIN_MS = 5000;

/**
 * PostgreSQL is the truth. At worker start and every RECONCILE_INTERVAL_S, re-derives timers from
 * the indexed `next_deadline_at` — due ones fire at once, ones due before the next pass get their
 * job back — and re-adds mail jobs for unsent outbox rows (one per run of due ones). Timers and
 * retries have deterministic ids, so adding one that exists changes nothing: a wiped Redis or a
 * lost job costs at most one interval.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Reconciler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly config: AppConfig,
    private readonly escalations: EscalationsRepository,
    private readonly scheduler: DeadlineScheduler,
    private readonly mailQueue: MailQueue,
  ) {}

  onApplicationBootstrap(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.config.reconcileIntervalSeconds * 1000);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; overlapping calls share the pass in flight. */
  runOnce(): Promise<{ timers: number; mails: number }> {
    if (!this.running) {
      this.running = this.pass()
        .catch((error) => {
          this.logger.warn(`reconcile pass failed, next one in ${this.config.reconcileIntervalSeconds} s: ${(error as Error).message}`);
          return { timers: 0, mails: 0 };
        })
        .finally(() => (this.running = undefined));
    }
    return this.running as Promise<{ timers: number; mails: number }>;
  }

  private async pass(): Promise<{ timers: number; mails: number }> {
    const horizon = new Date(Date.now() + this.config.reconcileIntervalSeconds * 1000 + MARGIN_MS);
    // Mail first: fired escalations are waiting for it. A dead worker's claims go back to pending,
    // each with a job of its own id (the dead worker's job for it may sit in Redis as active until
    // BullMQ finds it stalled). The timers may be thousands (a burst's next 35 s) and come last.
    // And its mails marked sent whose answer it never read: sent again, or counted as delivered.
    const doubt = await this.escalations.settleInDoubt();
    if (doubt.resent.length || doubt.delivered) {
      this.logger.warn(`mails whose sender died before the SMTP server answered their end of data: ${doubt.resent.length} sent again (the server was refusing mail after the data then), ${doubt.delivered} counted as delivered`);
    }
    const released = new Set([...doubt.resent, ...(await this.escalations.releaseAbandonedClaims(STALE_CLAIM_SECONDS))]);
    await this.mailQueue.enqueue([...released], undefined, released);
    let mails = released.size;
    // Due now: a job per run of them (a busy burst's backlog is thousands). Due later (retries):
    // a job each, waiting for its mail's next attempt.
    const pass = Date.now();
    let afterMail: { at: Date; id: string } | undefined;
    for (;;) {
      const rows = await this.escalations.unsentMails(afterMail, horizon, BATCH);
      const queued = rows.filter((r) => !released.has(r.id));
      const later = queued.filter((r) => r.next_attempt_at.getTime() > pass);
      await this.mailQueue.enqueueBacklog(
        queued.filter((r) => r.next_attempt_at.getTime() <= pass).map((r) => r.id),
        pass.toString(36),
      );
      await this.mailQueue.enqueue(
        later.map((r) => r.id),
        new Map(later.map((r) => [r.id, r.next_attempt_at.getTime()])),
      );
      mails += queued.length;
      if (rows.length < BATCH) break;
      const last = rows[rows.length - 1];
      afterMail = { at: last.next_attempt_at, id: last.id };
    }
    let timers = 0;
    let after: { at: Date; id: string } | undefined;
    for (;;) {
      const rows = await this.escalations.deadlinesBefore(horizon, after, BATCH);
      await this.scheduler.enqueue(
        rows.map((r) => ({ requestId: r.id, clockVersion: r.clock_version, kind: r.next_deadline_kind as EscalationKind, dueAt: r.next_deadline_at.getTime() })),
      );
      timers += rows.length;
      if (rows.length < BATCH) break;
      const last = rows[rows.length - 1];
      after = { at: last.next_deadline_at, id: last.id };
    }
    return { timers, mails };
  }
}
