import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { BusinessCalendar } from '../business-time';
import { ChainService } from '../chains/chain.service';
import { AppConfig } from '../common/app-config';
import { Clock } from '../common/clock';
import { MailQueue } from '../mail/mail-queue';
import { RequestClockService } from '../requests/request-clock.service';
import type { ServiceRequest } from '../requests/request.entity';
import { RequestsRepository, type NewEvent } from '../requests/requests.repository';
import { CHAIN_CHECK, isBreach, planDeadlines, type PlannedDeadline } from './deadline-plan';
import { clockFacts, DeadlineScheduler } from './deadline-scheduler';
import { composeEscalationMail } from './escalation-mail';
import { EscalationMetrics } from './escalation-metrics';
import { EscalationsRepository, type DepartmentContact, type NewEscalation } from './escalations.repository';

const LABEL: Record<string, string> = {
  response_warning: 'the response target is close',
  response_breach: 'the response target was missed',
  resolution_warning: 'the resolution target is close',
  resolution_breach: 'the resolution target was missed',
};

/** How many due requests one firing takes; a backlog is drained batch after batch. */
const BATCH = 200;
const MAX_BATCHES_PER_JOB = 50;

/**
 * A timer is the trigger; PostgreSQL decides what is due. A firing claims every request whose
 * next deadline has passed (rows other firings hold are skipped, not waited for), and for each
 * records the escalations now due and their mail in one transaction, with set-based SQL — a
 * burst of deadlines costs a few statements per batch, not per request. Then it stores each
 * request's next deadline, and after commit queues the mail and the next timers.
 */
@Injectable()
export class EscalationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly requests: RequestsRepository,
    private readonly escalations: EscalationsRepository,
    private readonly clocks: RequestClockService,
    private readonly scheduler: DeadlineScheduler,
    private readonly mailQueue: MailQueue,
    private readonly metrics: EscalationMetrics,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly chains: ChainService,
  ) {}

  /** The sweep running now, and the one queued behind it for the timers that arrived meanwhile. */
  private running: Promise<{ fired: string[] }> | null = null;
  private queued: { dueAt: number; promise: Promise<{ fired: string[] }> } | null = null;

  /**
   * `dueAt`: when the timer that triggers this was set to fire. Timers that fire together share
   * sweeps: each is answered by a sweep that started after it arrived (so it sees the timer's
   * committed request), and while one sweep runs, every timer arriving waits for the single next
   * one. A burst of ten thousand deadlines costs a few sweeps, not ten thousand queries.
   */
  fireDue(dueAt: number): Promise<{ fired: string[] }> {
    if (!this.running) return this.startSweep(dueAt);
    if (this.queued) {
      this.queued.dueAt = Math.max(this.queued.dueAt, dueAt);
      return this.queued.promise;
    }
    const queued = { dueAt, promise: null as unknown as Promise<{ fired: string[] }> };
    queued.promise = this.running.then(
      () => this.startQueued(queued),
      () => this.startQueued(queued),
    );
    this.queued = queued;
    return queued.promise;
  }

  private startQueued(queued: { dueAt: number }): Promise<{ fired: string[] }> {
    this.queued = null;
    return this.startSweep(queued.dueAt);
  }

  private startSweep(dueAt: number): Promise<{ fired: string[] }> {
    const sweep = this.sweep(dueAt).finally(() => {
      if (this.running === sweep) this.running = null;
    });
    this.running = sweep;
    return sweep;
  }

  private async sweep(dueAt: number): Promise<{ fired: string[] }> {
    const fired: string[] = [];
    // The timer was set for its deadline: that much is due even if clocks differ by a hair.
    const now = Math.max(this.clock.now().getTime(), dueAt);
    if (!(await this.escalations.anyDue(new Date(now)))) return { fired };
    for (let batch = 0; batch < MAX_BATCHES_PER_JOB; batch++) {
      const outcome = await this.fireBatch(now);
      fired.push(...outcome.fired);
      if (outcome.claimed < BATCH) break;
    }
    return { fired };
  }

  private async fireBatch(now: number): Promise<{ claimed: number; fired: string[] }> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const rows = await this.escalations.claimDue(manager, new Date(now), BATCH);
      if (rows.length === 0) return null;
      const ids = rows.map((r) => r.id);
      const pauses = await this.escalations.pausesOf(manager, ids);
      const firedKinds = await this.escalations.firedKindsOf(manager, ids);
      const calendars = new Map<string, BusinessCalendar>();
      for (const r of rows) calendars.set(r.id, await this.clocks.calendarFor(r.terms));

      const plans = rows.map((request) => {
        const plan = planDeadlines(calendars.get(request.id)!, clockFacts(request, pauses.filter((p) => p.requestId === request.id)), firedKinds.get(request.id) ?? new Set());
        const chainCheckDue = plan.some((d) => d.kind === CHAIN_CHECK && d.dueAt <= now);
        const due = plan.filter((d) => d.dueAt <= now && d.kind !== CHAIN_CHECK);
        const next = plan.find((d) => d.dueAt > now && !(chainCheckDue && d.kind === CHAIN_CHECK)) ?? null;
        return { request, due, next, chainCheckDue };
      });

      const firing = plans.filter((p) => p.due.length > 0);
      const newEscalations: (NewEscalation & { deadline: PlannedDeadline; request: ServiceRequest })[] = [];
      let contacts = new Map<string, DepartmentContact>();
      let neighbours: Awaited<ReturnType<EscalationsRepository['neighbours']>> = { upstream: new Map(), downstream: new Map() };
      if (firing.length) {
        const firingRows = firing.map((p) => p.request);
        contacts = await this.escalations.departmentContacts(firingRows.flatMap((r) => [r.providerDepartmentId, r.customerDepartmentId]));
        const assignees = await this.escalations.activeEmails(manager, firingRows.map((r) => r.assigneeId).filter((a): a is string => a !== null));
        const ops = await this.escalations.opsAddresses();
        neighbours = await this.escalations.neighbours(manager, firingRows.map((r) => r.id));
        for (const { request, due } of firing) {
          for (const deadline of due) {
            let recipients = recipientsFor(request, deadline, contacts, assignees, ops);
            // Nobody in that role: ops hears of it rather than nobody.
            if (recipients.length === 0) recipients = ops;
            newEscalations.push({ requestId: request.id, kind: deadline.kind, clockVersion: request.clockVersion, dueAt: new Date(deadline.dueAt), firedAt: new Date(now), recipients, deadline, request });
          }
        }
      }
      const recorded = await this.escalations.recordMany(manager, newEscalations);
      const fresh = newEscalations.filter((e) => recorded.has(`${e.requestId}|${e.kind}`));
      const mails = await this.escalations.addMails(
        manager,
        fresh.map((e) => {
          const provider = contacts.get(e.request.providerDepartmentId);
          const customer = contacts.get(e.request.customerDepartmentId) ?? provider;
          const mail = composeEscalationMail({
            requestId: e.request.id,
            title: e.request.title,
            priority: e.request.priority,
            status: e.request.status,
            kind: e.deadline.kind,
            deadlineAt: (e.deadline.kind.startsWith('response_') ? e.request.respondBy : e.request.resolveBy).getTime(),
            firedAt: now,
            deadlineLabel: LABEL[e.deadline.kind] ?? `escalation level ${e.deadline.kind.slice(6)} reached (${e.deadline.notify.replace('_', ' ')})`,
            publicUrl: this.config.publicUrl,
            context: {
              providerName: provider?.name ?? '?',
              providerCode: provider?.code ?? '?',
              customerName: customer?.name ?? '?',
              customerCode: customer?.code ?? '?',
              timezone: e.request.terms.calendarId ? e.request.terms.timezone : (provider?.timezone ?? e.request.terms.timezone),
              upstream: neighbours.upstream.get(e.request.id) ?? [],
              downstream: neighbours.downstream.get(e.request.id) ?? [],
            },
          });
          return {
            escalationId: recorded.get(`${e.requestId}|${e.kind}`)!,
            requestId: e.requestId,
            kind: e.kind,
            recipients: e.recipients,
            subject: mail.subject,
            textBody: mail.text,
            htmlBody: mail.html,
            headers: mail.headers,
            dueAt: e.dueAt,
            status: e.recipients.length ? ('pending' as const) : ('failed' as const),
            lastError: e.recipients.length ? null : 'nobody to tell: no head, assignee or ops user',
          };
        }),
      );
      const events: NewEvent[] = fresh.map((e) => ({
        requestId: e.requestId,
        actorId: null,
        type: isBreach(e.deadline.kind) ? 'breached' : 'escalated',
        at: e.firedAt,
        after: { kind: e.deadline.kind, dueAt: e.dueAt.toISOString(), notify: e.deadline.notify, recipients: e.recipients },
      }));
      await this.requests.appendEvents(manager, events);
      await this.escalations.updateAfterFiring(
        manager,
        plans.map(({ request, next, chainCheckDue }) => {
          const mine = fresh.filter((e) => e.requestId === request.id).map((e) => e.deadline.kind);
          return {
            id: request.id,
            next: next ? { dueAt: next.dueAt, kind: next.kind } : null,
            breachedResponse: mine.includes('response_breach'),
            breachedResolution: mine.includes('resolution_breach'),
            raiseLevelBy: mine.filter((k) => k !== 'response_warning' && k !== 'resolution_warning').length,
            clearChainCheck: chainCheckDue,
          };
        }),
      );
      return {
        claimed: rows.length,
        fresh,
        mailIds: mails.filter((m) => m.status === 'pending').map((m) => m.id),
        timers: plans
          .filter((p) => p.next)
          .map((p) => ({ requestId: p.request.id, clockVersion: p.request.clockVersion, kind: p.next!.kind, dueAt: p.next!.dueAt })),
        chainChecks: plans.filter((p) => p.chainCheckDue).map((p) => p.request.id),
      };
    });
    if (!outcome) return { claimed: 0, fired: [] };
    const recordedAt = this.clock.now().getTime();
    for (const e of outcome.fresh) {
      this.metrics.fired.inc({ kind: e.kind });
      this.metrics.lateness.observe({ kind: e.kind }, Math.max(0, recordedAt - e.dueAt.getTime()) / 1000);
    }
    await this.mailQueue.enqueueDue(outcome.mailIds);
    await this.scheduler.enqueue(outcome.timers);
    // Time alone has brought these chains to where their slack would cross zero: look again.
    for (const id of outcome.chainChecks) await this.chains.recompute([id]);
    return { claimed: outcome.claimed, fired: outcome.fresh.map((e) => e.kind) };
  }
}

function recipientsFor(
  request: ServiceRequest,
  deadline: PlannedDeadline,
  contacts: Map<string, DepartmentContact>,
  assignees: Map<string, string>,
  ops: string[],
): string[] {
  const providerHead = contacts.get(request.providerDepartmentId)?.headEmail;
  switch (deadline.notify) {
    case 'assignee': {
      const assignee = request.assigneeId ? assignees.get(request.assigneeId) : undefined;
      return [assignee ?? providerHead].filter((e): e is string => Boolean(e));
    }
    case 'provider_head':
      return [providerHead].filter((e): e is string => Boolean(e));
    case 'customer_head':
      return [contacts.get(request.customerDepartmentId)?.headEmail].filter((e): e is string => Boolean(e));
    case 'ladder':
      return [contacts.get(request.providerDepartmentId)?.escalationEmail].filter((e): e is string => Boolean(e));
    case 'ops':
      return ops;
  }
}
