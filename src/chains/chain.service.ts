import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { BusinessCalendar } from '../business-time';
import { AppConfig } from '../common/app-config';
import { Clock } from '../common/clock';
import { DeadlineScheduler, type ScheduledDeadline } from '../escalation/deadline-scheduler';
import { EscalationsRepository } from '../escalation/escalations.repository';
import { MailQueue } from '../mail/mail-queue';
import { RequestClockService } from '../requests/request-clock.service';
import { spansOf } from '../requests/request-clock.service';
import { resolutionDeadline, toClockInstant } from '../requests/request-clocks';
import type { RequestPause } from '../requests/request-pause.entity';
import type { ServiceRequest } from '../requests/request.entity';
import { RequestsRepository } from '../requests/requests.repository';
import { composeChainAtRiskMail } from './chain-mail';
import { pathInto, planChain, type ChainLink, type ChainNode, type NodePlan } from './chain-plan';
import { ChainsRepository } from './chains.repository';

const FINISHED = new Set(['resolved', 'closed', 'cancelled']);
/** The longest a chain's stored figures go without a recompute (docs/chains.md). */
export const CHAIN_REFRESH_SECONDS = 15 * 60;
const sameInstant = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);
const sameFigures = (
  r: ServiceRequest,
  f: Pick<ServiceRequest, 'projectedFinishAt' | 'latestFinishAt' | 'slackSeconds' | 'atRisk' | 'bottleneckRequestId'>,
) =>
  sameInstant(r.projectedFinishAt, f.projectedFinishAt) &&
  sameInstant(r.latestFinishAt, f.latestFinishAt) &&
  r.slackSeconds === f.slackSeconds &&
  r.atRisk === f.atRisk &&
  r.bottleneckRequestId === f.bottleneckRequestId;
const isFinished = (r: ServiceRequest) => FINISHED.has(r.status);

export interface ChainOutcome {
  requests: number;
  atRisk: string[];
  escalated: string[];
}

/**
 * Keeps a chain's figures true after every change to it (docs/chains.md): blocked pauses
 * charged to the upstream request, each request's projected and latest finish, slack and
 * bottleneck, at-risk episodes with their chain_at_risk mail, and the timer for the moment
 * slack would cross zero. Touches only the connected chain of what changed.
 */
@Injectable()
export class ChainService {
  private readonly logger = new Logger('ChainService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly chains: ChainsRepository,
    private readonly requests: RequestsRepository,
    private readonly clocks: RequestClockService,
    private readonly scheduler: DeadlineScheduler,
    private readonly escalations: EscalationsRepository,
    private readonly mailQueue: MailQueue,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** After a change to these requests has committed; cheap when none of them is in a chain. */
  async afterChange(requests: readonly Pick<ServiceRequest, 'id' | 'externalDueAt' | 'neededBy' | 'latestFinishAt'>[]): Promise<void> {
    const chained: string[] = [];
    for (const r of requests) if (await this.chains.isChained(r)) chained.push(r.id);
    if (chained.length) await this.recompute(chained);
  }

  async recompute(seedIds: readonly string[]): Promise<ChainOutcome> {
    const members = await this.chains.members(seedIds);
    const ids = members.map((m) => m.id);
    if (ids.length === 0) return { requests: 0, atRisk: [], escalated: [] };
    // Calendars and lead times before the transaction: it must not wait for a second pool connection.
    const calendars = new Map<string, BusinessCalendar>();
    const leads = new Map<string, number>();
    for (const m of members) {
      calendars.set(m.id, await this.clocks.calendarFor(m.terms));
      leads.set(m.id, (await this.chains.leadTime(m.serviceId)) ?? m.terms.resolutionTargetSeconds);
    }
    const outcome = await this.dataSource.transaction(async (manager) => {
      const rows = await this.chains.lockRequests(manager, ids); // under the shared graph lock
      if (rows.some((r) => !calendars.has(r.id))) return null; // linked meanwhile; the linker recomputes
      const { links, pauses } = await this.chains.linksAndPauses(manager, ids);
      const now = toClockInstant(this.clock.now());
      const { timers, pausesChanged } = await this.chargeBlockedTime(manager, rows, links, pauses, calendars, now);
      const freshPauses = pausesChanged ? await this.chains.pauses(manager, ids) : pauses;
      const byId = new Map(rows.map((r) => [r.id, r]));
      const nodes: ChainNode[] = rows.map((r) => this.nodeOf(r, freshPauses, calendars.get(r.id)!, leads.get(r.id)!, now));
      const plans = planChain(nodes, links, now);
      // A request left on its own, with no promise, is in no chain any more (its last link was
      // removed): its figures go, as a request never linked has none.
      const alone = rows.length === 1 && links.length === 0 && !rows[0].externalDueAt && !rows[0].neededBy;
      const figures = rows.map((r) => {
        if (alone) return { id: r.id, projectedFinishAt: null, latestFinishAt: null, slackSeconds: null, atRisk: false, bottleneckRequestId: null };
        const p = plans.get(r.id)!;
        const open = !isFinished(r);
        return {
          id: r.id,
          projectedFinishAt: new Date(p.projectedFinishAt),
          latestFinishAt: open && p.latestFinishAt !== null ? new Date(p.latestFinishAt) : null,
          slackSeconds: open ? p.slackSeconds : null,
          atRisk: p.atRisk,
          bottleneckRequestId: open ? p.bottleneckRequestId : null,
        };
      });
      const escalated = await this.judgeEpisodes(manager, rows, byId, nodes, links, plans, now, timers);
      // Only the rows whose figures moved: fewer row versions, and no write at all when none did.
      // When nothing but these derived figures was written, which the next recompute writes again,
      // the commit need not wait for the WAL flush (docs/chains.md, "Recomputing cheaply").
      await this.chains.writePlans(
        manager,
        figures.filter((f) => !sameFigures(byId.get(f.id)!, f)),
        !pausesChanged && timers.length === 0 && escalated.length === 0,
      );
      return { escalated, timers, atRisk: rows.filter((r) => plans.get(r.id)!.atRisk).map((r) => r.id) };
    });
    if (!outcome) return this.recompute(seedIds);
    await this.mailQueue.enqueue(outcome.escalated.map((e) => e.mailId));
    await this.scheduler.enqueue(outcome.timers);
    return { requests: ids.length, atRisk: outcome.atRisk, escalated: outcome.escalated.map((e) => e.requestId) };
  }

  private nodeOf(r: ServiceRequest, pauses: RequestPause[], calendar: BusinessCalendar, leadSeconds: number, now: number): ChainNode {
    const finished = isFinished(r);
    const own = pauses.filter((p) => p.requestId === r.id);
    const counted = spansOf(own, r.terms);
    const stoppedClock = !finished && counted.some((p) => p.endedAt === null);
    return {
      id: r.id,
      finished,
      finishedAt: finished ? (r.resolvedAt ?? r.closedAt ?? r.cancelledAt ?? new Date(now)).getTime() : null,
      resolveBy: r.resolveBy.getTime(),
      resolveByIfResumedAt: stoppedClock
        ? (resumeAt) =>
            resolutionDeadline(calendar, r.createdAt.getTime(), r.terms.resolutionTargetSeconds, counted.map((p) => (p.endedAt === null ? { ...p, endedAt: Math.max(resumeAt, p.startedAt) } : p)))
        : undefined,
      neededBy: r.neededBy ? r.neededBy.getTime() : null,
      externalDueAt: r.externalDueAt ? r.externalDueAt.getTime() : null,
      leadSeconds,
      // Work done: clock time that was neither paused nor blocked, whatever the agreement counts.
      workedSeconds: finished ? leadSeconds : this.clocks.worked(calendar, r, new Date(now), own),
      paused: r.status === 'waiting_on_customer',
      calendar,
    };
  }

  /**
   * A request waiting on an unresolved dependency is blocked: one open `blocked` pause at a time,
   * naming the dependency expected to finish last, so the wait is charged upstream. Pauses that
   * start or end move the resolution clock (when the agreement pauses while blocked).
   */
  private async chargeBlockedTime(
    manager: EntityManager,
    rows: ServiceRequest[],
    links: ChainLink[],
    pauses: RequestPause[],
    calendars: Map<string, BusinessCalendar>,
    now: number,
  ): Promise<{ timers: ScheduledDeadline[]; pausesChanged: boolean }> {
    const byId = new Map(rows.map((r) => [r.id, r]));
    const timers: ScheduledDeadline[] = [];
    let pausesChanged = false;
    for (const r of rows) {
      const open = pauses.find((p) => p.requestId === r.id && p.reason === 'blocked' && p.endedAt === null) ?? null;
      const blockers = isFinished(r)
        ? []
        : links.filter((l) => l.requestId === r.id).map((l) => byId.get(l.dependsOnId)!).filter((u) => u && !isFinished(u));
      // The blocker expected last holds it up longest.
      blockers.sort((a, b) => (b.projectedFinishAt?.getTime() ?? 0) - (a.projectedFinishAt?.getTime() ?? 0) || a.id.localeCompare(b.id));
      const blocker = blockers[0]?.id ?? null;
      if ((open?.blockingRequestId ?? null) === blocker) continue;
      const at = new Date(now);
      pausesChanged = true;
      if (open) await manager.query(`UPDATE request_pauses SET ended_at = $2 WHERE id = $1`, [open.id, at]);
      if (blocker) await this.requests.startPause(manager, r.id, 'blocked', at, null, blocker);
      if (!open !== !blocker) {
        // Blocked started or ended (not just a change of blocker): the clocks move. Its pauses as
        // just written, without reading them back.
        const own = pauses
          .filter((p) => p.requestId === r.id)
          .map((p) => (p === open ? { ...p, endedAt: at } : p))
          .concat(blocker ? [{ id: '', requestId: r.id, reason: 'blocked', startedAt: at, endedAt: null, blockingRequestId: blocker }] : [])
          .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
        const deadlines = this.clocks.deadlines(calendars.get(r.id)!, r.terms, r.createdAt, own);
        const pausedSince = this.clocks.runningPauseStart(r.terms, own);
        await manager.query(`UPDATE requests SET resolve_by = $2, paused_seconds = $3, paused_since = $4 WHERE id = $1`, [r.id, deadlines.resolveBy, deadlines.pausedSeconds, pausedSince]);
        // The plan below reads these rows: keep them equal to what was just written.
        r.resolveBy = deadlines.resolveBy;
        r.pausedSeconds = deadlines.pausedSeconds;
        r.pausedSince = pausedSince;
        const timer = await this.scheduler.replan(manager, r.id, calendars.get(r.id)!, { request: r, pauses: own });
        if (timer) timers.push(timer);
      }
    }
    return { timers, pausesChanged };
  }

  /** For each end of the chain: a new at-risk episode escalates once; a recovery closes it; otherwise set the timer for the slip. */
  private async judgeEpisodes(
    manager: EntityManager,
    rows: ServiceRequest[],
    byId: Map<string, ServiceRequest>,
    nodes: ChainNode[],
    links: ChainLink[],
    chainPlans: Map<string, NodePlan>,
    now: number,
    timers: ScheduledDeadline[],
  ): Promise<{ requestId: string; mailId: string }[]> {
    const escalated: { requestId: string; mailId: string }[] = [];
    const openIds = new Set(rows.filter((r) => !isFinished(r)).map((r) => r.id));
    const ends = rows.filter((r) => openIds.has(r.id) && !links.some((l) => l.dependsOnId === r.id && openIds.has(l.requestId)));
    // Figures age while nothing changes (a projection slides as time passes unworked): every chain
    // is looked at again at least this often, besides the moment its slack would cross zero.
    const refreshAt = now + CHAIN_REFRESH_SECONDS * 1000;
    for (const end of ends) {
      const upstream = pathInto(end.id, links);
      // Judged against this end's own deadlines only: in a chain with two ends, a request late for
      // one end's promise does not put the other end at risk (nor mail it).
      const plans =
        ends.length === 1
          ? chainPlans
          : planChain(
              nodes.filter((n) => upstream.has(n.id)),
              links.filter((l) => upstream.has(l.requestId) && upstream.has(l.dependsOnId)),
              now,
            );
      const path = [...upstream].filter((id) => openIds.has(id));
      const chained = path.length > 1 || end.externalDueAt !== null || end.neededBy !== null;
      const late = path.filter((id) => (plans.get(id)!.ownSlackSeconds ?? 0) < 0);
      const atRisk = chained && late.length > 0;
      const pending = end.chainCheckAt && end.chainCheckAt.getTime() > now ? end.chainCheckAt.getTime() : null;
      if (atRisk && !end.atRiskSince) {
        const episode = end.atRiskEpisode + 1;
        await manager.query(`UPDATE requests SET at_risk_episode = $2, at_risk_since = $3, chain_check_at = $4 WHERE id = $1`, [end.id, episode, new Date(now), new Date(refreshAt)]);
        const mailId = await this.escalate(manager, end, episode, path, late, byId, plans, now);
        if (mailId) escalated.push({ requestId: end.id, mailId });
        const timer = await this.scheduler.replan(manager, end.id, await this.clocks.calendarFor(end.terms));
        if (timer) timers.push(timer);
      } else if (atRisk) {
        // Still at risk, already told: only keep its figures fresh.
        if (pending === null) await this.setChainCheck(manager, end, refreshAt, timers, true);
      } else {
        const crossings = path.map((id) => plans.get(id)!.crossesZeroAt).filter((t): t is number => t !== null);
        // Linked only to finished requests, it is no longer at risk of anything upstream, but it still
        // shows chain figures, which must not freeze (they did when a link was removed).
        const checkAt = chained || upstream.size > 1 ? Math.min(...crossings, pending ?? refreshAt) : null;
        if ((end.chainCheckAt?.getTime() ?? null) !== checkAt || end.atRiskSince !== null) await this.setChainCheck(manager, end, checkAt, timers);
      }
    }
    return escalated;
  }

  /**
   * Stores when to look at the chain again and moves its end's timer; `stillAtRisk` keeps the
   * at-risk episode open, otherwise the chain is recorded as not at risk.
   */
  private async setChainCheck(manager: EntityManager, end: ServiceRequest, checkAt: number | null, timers: ScheduledDeadline[], stillAtRisk = false): Promise<void> {
    const at = checkAt === null ? null : new Date(checkAt);
    if (stillAtRisk) await manager.query(`UPDATE requests SET chain_check_at = $2 WHERE id = $1`, [end.id, at]);
    else await manager.query(`UPDATE requests SET at_risk_since = NULL, chain_check_at = $2 WHERE id = $1`, [end.id, at]);
    const timer = await this.scheduler.replan(manager, end.id, await this.clocks.calendarFor(end.terms));
    if (timer) timers.push(timer);
  }

  private async escalate(
    manager: EntityManager,
    end: ServiceRequest,
    episode: number,
    path: string[],
    late: string[],
    byId: Map<string, ServiceRequest>,
    plans: Map<string, NodePlan>,
    now: number,
  ): Promise<string | null> {
    const worst = [...late].sort((a, b) => plans.get(a)!.ownSlackSeconds! - plans.get(b)!.ownSlackSeconds! || a.localeCompare(b))[0];
    const bottleneck = byId.get(plans.get(worst)!.bottleneckRequestId ?? worst)!;
    const promiseHolder =
      (end.externalDueAt ? end : path.map((id) => byId.get(id)!).filter((r) => r.externalDueAt).sort((a, b) => a.externalDueAt!.getTime() - b.externalDueAt!.getTime())[0]) ?? end;
    const departments = await this.chains.departments([...new Set([...path.map((id) => byId.get(id)!.providerDepartmentId), promiseHolder.customerDepartmentId])]);
    const providerOf = departments.get(bottleneck.providerDepartmentId);
    const holder = departments.get(promiseHolder.customerDepartmentId);
    let recipients = [...new Set([providerOf?.headEmail, holder?.headEmail].filter((e): e is string => Boolean(e)))];
    if (recipients.length === 0) recipients = await this.escalations.opsEmails();
    const slack = Math.min(...path.map((id) => plans.get(id)!.slackSeconds ?? 0));
    const escalationId = await this.escalations.record(manager, {
      requestId: end.id,
      kind: 'chain_at_risk',
      clockVersion: episode,
      dueAt: new Date(now),
      firedAt: new Date(now),
      recipients,
    });
    if (!escalationId) return null;
    // Upstream first: order the path by projected finish.
    const hops = path
      .map((id) => byId.get(id)!)
      .sort((a, b) => plans.get(a.id)!.projectedFinishAt - plans.get(b.id)!.projectedFinishAt || a.id.localeCompare(b.id))
      .map((r) => ({
        id: r.id,
        title: r.title,
        status: r.status,
        department: departments.get(r.providerDepartmentId)?.name ?? '?',
        projectedFinishAt: plans.get(r.id)!.projectedFinishAt,
        latestFinishAt: plans.get(r.id)!.latestFinishAt,
        slackSeconds: plans.get(r.id)!.slackSeconds,
        isBottleneck: r.id === bottleneck.id,
      }));
    const mail = composeChainAtRiskMail({
      sinkId: end.id,
      sinkTitle: end.title,
      promise: { customer: holder?.name ?? '?', dueAt: promiseHolder.externalDueAt?.getTime() ?? promiseHolder.neededBy?.getTime() ?? null, externalRef: promiseHolder.externalRef },
      bottleneck: { id: bottleneck.id, title: bottleneck.title, department: providerOf?.name ?? '?' },
      hops,
      slackSeconds: slack,
      timezone: end.terms.timezone,
      publicUrl: this.config.publicUrl,
    });
    const mailId = await this.escalations.addMail(manager, {
      escalationId,
      requestId: end.id,
      kind: 'chain_at_risk',
      recipients,
      subject: mail.subject,
      textBody: mail.text,
      htmlBody: mail.html,
      headers: mail.headers,
      dueAt: new Date(now),
    });
    await this.requests.appendEvents(manager, [
      {
        requestId: end.id,
        actorId: null,
        type: 'escalated',
        at: new Date(now),
        after: { kind: 'chain_at_risk', episode, bottleneckRequestId: bottleneck.id, slackSeconds: slack, recipients },
      },
    ]);
    this.logger.log(`chain ending in ${end.id} at risk (episode ${episode}); bottleneck ${bottleneck.id}`);
    return mailId;
  }
}
