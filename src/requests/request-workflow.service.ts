import type { EntityManager } from 'typeorm';
import { Injectable } from '@nestjs/common';
import type { BusinessCalendar } from '../business-time';
import { Clock } from '../common/clock';
import { ChainService } from '../chains/chain.service';
import { DeadlineScheduler } from '../escalation/deadline-scheduler';
import { DomainError, forbidden } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { assertVisible, ownSideOf, sidesOf } from './request-access';
import { RequestClockService } from './request-clock.service';
import { toClockInstant } from './request-clocks';
import { countsAsResponse, isReopen, judgeTransition, nextStatuses, type CommentSide, type RequestStatus, type Side } from './request-lifecycle';
import type { CommentView, CreatedCommentView, RequestView } from './request.dto';
import type { ServiceRequest } from './request.entity';
import { RequestPresenter } from './request-presenter';
import { RequestsRepository, type NewEvent } from './requests.repository';
import { staleVersion } from './requests.service';

/** Moves requests through their life cycle and keeps the clocks in step with every move. */
@Injectable()
export class RequestWorkflowService {
  constructor(
    private readonly requests: RequestsRepository,
    private readonly clocks: RequestClockService,
    private readonly presenter: RequestPresenter,
    private readonly clock: Clock,
    private readonly deadlines: DeadlineScheduler,
    private readonly chains: ChainService,
  ) {}

  async transition(actor: Actor, id: string, to: RequestStatus, version: number, comment?: string): Promise<RequestView> {
    const visible = await this.requests.findById(id);
    assertVisible(actor, visible);
    const sides = sidesOf(actor, visible);
    // Fetched before the transaction, which must not wait for a second pool connection.
    const calendar = await this.clocks.calendarFor(visible.terms);
    const timer = await this.requests.transaction(async (manager) => {
      const request = (await this.requests.findForUpdate(manager, id))!;
      if (request.version !== version) throw staleVersion(request.version);
      const verdict = judgeTransition(request.status, to, sides);
      if (!verdict.allowed && verdict.reason === 'illegal') {
        const legal = nextStatuses(request.status);
        throw new DomainError(
          'illegal_transition',
          `A request that is ${request.status} cannot move to ${to}` + (legal.length ? `; it can move to ${legal.join(', ')}` : ''),
          { from: request.status, to, allowed: legal },
        );
      }
      if (!verdict.allowed) {
        // The SPEC's life cycle: a move the caller's side may not make is an illegal move, 409 like the rest.
        throw new DomainError('illegal_transition', `Only the ${verdict.sides?.join(' or ')} side may move a request from ${request.status} to ${to}`, {
          from: request.status,
          to,
          sides: verdict.sides,
        });
      }
      const now = new Date(toClockInstant(this.clock.now()));
      const side: Side = sides.has('provider') && judgeTransition(request.status, to, new Set<Side>(['provider'])).allowed ? 'provider' : 'customer';
      const events: NewEvent[] = [];
      if (comment) events.push(await this.addComment(manager, request, actor, side, comment, now));
      const changes = await this.clockChangesFor(manager, request, calendar, to, now, side === 'provider' && comment !== undefined);
      events.push({ requestId: id, actorId: actor.id, type: 'transitioned', at: now, before: { status: request.status }, after: { status: to, ...describe(changes) } });
      if (!(await this.requests.updateIfVersion(manager, id, version, { status: to, ...changes }))) throw staleVersion(version + 1);
      await this.requests.appendEvents(manager, events);
      return this.deadlines.replan(manager, id, calendar);
    });
    this.deadlines.schedule([timer]);
    await this.chains.afterChange([visible]);
    return this.presenter.presentOne((await this.requests.findById(id))!, this.clock.now());
  }

  /**
   * The first provider comment is the first response. A customer comment on a request that
   * waits on the customer puts it back in progress, as Jira Service Management and Zammad do.
   */
  async comment(actor: Actor, id: string, body: string): Promise<CreatedCommentView> {
    const visible = await this.requests.findById(id);
    assertVisible(actor, visible);
    const sides = sidesOf(actor, visible);
    if (sides.size === 0) throw forbidden('Only the two departments party to a request may comment on it');
    const calendar = await this.clocks.calendarFor(visible.terms);
    const outcome = await this.requests.transaction(async (manager) => {
      const request = (await this.requests.findForUpdate(manager, id))!;
      const now = new Date(toClockInstant(this.clock.now()));
      // An admin speaks for a department only as a member of it: otherwise the comment is the admin's own.
      const side: CommentSide = actor.role === 'admin' ? ownSideOf(actor, request) : sides.has('provider') ? 'provider' : 'customer';
      const commented = await this.addComment(manager, request, actor, side, body, now);
      const events: NewEvent[] = [commented];
      let changes: Partial<ServiceRequest> = {};
      if (side === 'provider' && !request.respondedAt && request.status === 'open') {
        changes = await this.clockChangesFor(manager, request, calendar, request.status, now, true);
        // The first response: the timeline says so, as a transition's event says what it stopped.
        commented.before = { respondedAt: null };
        commented.after = { ...commented.after, ...describe(changes) };
      } else if (side === 'customer' && request.status === 'waiting_on_customer') {
        changes = { status: 'in_progress', ...(await this.clockChangesFor(manager, request, calendar, 'in_progress', now, false)) };
        events.push({ requestId: id, actorId: actor.id, type: 'transitioned', at: now, before: { status: request.status }, after: { status: 'in_progress', reason: 'customer replied', ...describe(changes) } });
      }
      let timer = null;
      let requestVersion = request.version;
      if (Object.keys(changes).length > 0) {
        if (!(await this.requests.updateIfVersion(manager, id, request.version, changes))) throw staleVersion(request.version + 1);
        requestVersion++;
        timer = await this.deadlines.replan(manager, id, calendar);
      }
      await this.requests.appendEvents(manager, events);
      return { comment: { ...(commented.after as { comment: CommentView }).comment, requestVersion }, timer };
    });
    this.deadlines.schedule([outcome.timer]);
    if (outcome.timer) await this.chains.afterChange([visible]);
    return outcome.comment;
  }

  private async addComment(manager: EntityManager, request: ServiceRequest, actor: Actor, side: CommentSide, body: string, now: Date): Promise<NewEvent> {
    const saved = await this.requests.insertComment(manager, { requestId: request.id, authorId: actor.id, side, body, createdAt: now });
    const comment: CommentView = { id: saved.id, requestId: request.id, authorId: actor.id, side, body, createdAt: now.toISOString() };
    return { requestId: request.id, actorId: actor.id, type: 'commented', at: now, after: { comment } };
  }

  /** What a move does to the clocks: response stops, pauses start or end, resolution stops or resumes. */
  private async clockChangesFor(
    manager: EntityManager,
    request: ServiceRequest,
    calendar: BusinessCalendar,
    to: RequestStatus,
    now: Date,
    providerCommented: boolean,
  ): Promise<Partial<ServiceRequest>> {
    const changes: Partial<ServiceRequest> = {};
    const from = request.status;
    if (!request.respondedAt && (countsAsResponse(from, to) || providerCommented)) {
      changes.respondedAt = now;
      changes.respondBusinessSeconds = this.clocks.worked(calendar, request, now, []);
      changes.breachedResponse = now > request.respondBy;
    }
    let pausesChanged = false;
    if (to === 'waiting_on_customer' && from !== 'waiting_on_customer') {
      await this.requests.startPause(manager, request.id, 'waiting_on_customer', now);
      changes.pausedSince = request.pausedSince ?? now; // already stopped if blocked
    }
    if (to === 'cancelled') changes.cancelledAt = now;
    if (from === 'waiting_on_customer' && to !== 'waiting_on_customer') {
      await this.requests.endPauses(manager, request.id, 'waiting_on_customer', now);
      // Still blocked on a dependency? Then the clock stays stopped.
      changes.pausedSince = this.clocks.runningPauseStart(request.terms, await this.requests.pausesOf([request.id], manager));
      pausesChanged = true;
    }
    if (isReopen(from, to) && request.resolvedAt) {
      // Time spent resolved is not the provider's: the clock resumes where it stopped.
      await this.requests.startPause(manager, request.id, 'resolved', request.resolvedAt, now);
      changes.resolvedAt = null;
      changes.resolveBusinessSeconds = null;
      changes.closedAt = null;
      pausesChanged = true;
    }
    if (pausesChanged) {
      const pauses = await this.requests.pausesOf([request.id], manager);
      const deadlines = this.clocks.deadlines(calendar, request.terms, request.createdAt, pauses);
      changes.resolveBy = deadlines.resolveBy;
      changes.pausedSeconds = deadlines.pausedSeconds;
    }
    if (to === 'resolved') {
      const pauses = await this.requests.pausesOf([request.id], manager);
      const resolveBy = changes.resolveBy ?? request.resolveBy;
      changes.resolvedAt = now;
      changes.resolveBusinessSeconds = this.clocks.worked(calendar, request, now, pauses);
      changes.breachedResolution = request.breachedResolution || now > resolveBy;
    }
    if (to === 'closed') changes.closedAt = now;
    return changes;
  }
}

function describe(changes: Partial<ServiceRequest>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(changes)) out[key] = value instanceof Date ? value.toISOString() : value;
  return out;
}
