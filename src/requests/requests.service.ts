import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Agreement } from '../agreements/agreement.entity';
import type { AgreementTerms, Priority } from '../agreements/agreement-terms';
import { AgreementsRepository } from '../agreements/agreements.repository';
import { ChainService } from '../chains/chain.service';
import { DeadlineScheduler } from '../escalation/deadline-scheduler';
import { Clock } from '../common/clock';
import { decodeCursor, encodeCursor, Page } from '../common/cursor';
import { conflict, DomainError, forbidden, invalid, notFound, type FieldProblem } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { UsersRepository } from '../identity/users.repository';
import { DepartmentsRepository } from '../org/departments.repository';
import { ProviderServicesRepository } from '../org/provider-services.repository';
import { assertVisible, sidesOf } from './request-access';
import { RequestClockService } from './request-clock.service';
import { toClockInstant } from './request-clocks';
import { isFinished } from './request-lifecycle';
import { RequestPresenter } from './request-presenter';
import type { CreateRequestDto, RequestEventView, RequestListQuery, RequestView, UpdateRequestDto } from './request.dto';
import { newRequest, type ServiceRequest } from './request.entity';
import { RequestsRepository, type NewEvent } from './requests.repository';

export function termsOf(agreement: Agreement, calendarId: string | null, timezone: string): AgreementTerms {
  return {
    agreementId: agreement.id,
    agreementVersion: agreement.version,
    responseTarget: agreement.responseTarget,
    responseTargetSeconds: agreement.responseTargetSeconds,
    resolutionTarget: agreement.resolutionTarget,
    resolutionTargetSeconds: agreement.resolutionTargetSeconds,
    calendarId: agreement.calendarId ?? calendarId,
    timezone,
    warnAtPercent: agreement.warnAtPercent,
    pauseWhileBlocked: agreement.pauseWhileBlocked,
    escalations: agreement.escalations,
  };
}

export const staleVersion = (current: number) =>
  new DomainError('stale_version', `The request has changed since you read it (it is now at version ${current}); read it again`, {
    currentVersion: current,
  });

/** Canonical JSON, so the same body with its keys in another order is still the same body. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

@Injectable()
export class RequestsService {
  constructor(
    private readonly requests: RequestsRepository,
    private readonly services: ProviderServicesRepository,
    private readonly departments: DepartmentsRepository,
    private readonly agreements: AgreementsRepository,
    private readonly users: UsersRepository,
    private readonly clocks: RequestClockService,
    private readonly presenter: RequestPresenter,
    private readonly clock: Clock,
    private readonly deadlines: DeadlineScheduler,
    private readonly chains: ChainService,
  ) {}

  async create(actor: Actor, dto: CreateRequestDto, idempotencyKey?: string): Promise<RequestView> {
    if (!actor.departmentId) {
      throw new DomainError('unprocessable', 'Your account belongs to no department, so it cannot raise requests');
    }
    const service = await this.services.findById(dto.serviceId);
    if (!service || !service.active) {
      throw invalid([{ field: 'serviceId', message: service ? 'this service no longer takes requests' : 'no service has this id' }]);
    }
    const problems: FieldProblem[] = [];
    // Linking needs both ends visible: a request of someone else's answers as if it did not exist.
    for (const [i, id] of (dto.dependsOn ?? []).entries()) {
      const upstream = await this.requests.findById(id);
      if (!upstream || sidesOf(actor, upstream).size === 0) {
        problems.push({ field: `dependsOn[${i}]`, message: 'no request you are party to has this id' });
      }
    }
    if (problems.length) throw invalid(problems);
    const priority: Priority = dto.priority ?? 'normal';
    const provider = await this.departments.findById(service.departmentId);
    const agreement = await this.agreements.findApplicable(service.id, actor.departmentId, priority);
    if (!provider || !agreement) {
      throw new DomainError(
        'unprocessable',
        `No agreement covers service ${service.code} for your department at priority ${priority}; ask the provider to add one`,
      );
    }
    const terms = termsOf(agreement, provider.calendarId, provider.timezone);
    const calendar = await this.clocks.calendarFor(terms);
    const createdAt = new Date(toClockInstant(this.clock.now()));
    const { respondBy, resolveBy } = this.clocks.deadlines(calendar, terms, createdAt, []);
    const firstTimer = this.deadlines.firstDeadline(calendar, terms, createdAt);
    const requestHash = idempotencyKey ? createHash('sha256').update(canonical(dto)).digest('hex') : '';

    const request = newRequest({
      id: randomUUID(),
      serviceId: service.id,
      providerDepartmentId: service.departmentId,
      customerDepartmentId: actor.departmentId,
      requesterId: actor.id,
      title: dto.title,
      description: dto.description ?? null,
      priority,
      agreementId: agreement.id,
      agreementVersion: agreement.version,
      terms,
      createdAt,
      respondBy,
      resolveBy,
      ...firstTimer,
      neededBy: dto.neededBy ? new Date(dto.neededBy) : null,
      externalRef: dto.externalRef ?? null,
      externalDueAt: dto.externalDueAt ? new Date(dto.externalDueAt) : null,
    });
    const createdEvent: NewEvent = {
      requestId: request.id,
      actorId: actor.id,
      type: 'created',
      at: createdAt,
      after: { status: 'open', priority, respondBy: respondBy.toISOString(), resolveBy: resolveBy.toISOString() },
    };
    const dependsOn = dto.dependsOn ?? [];
    const view = this.presenter.presentFresh(request, dependsOn, this.clock.now());
    let created: { view: RequestView; fresh: boolean };
    if (!idempotencyKey && dependsOn.length === 0) {
      await this.requests.insertRequestWithEvent(request, createdEvent);
      created = { view, fresh: true };
    } else {
      created = await this.requests.transaction(async (manager): Promise<{ view: RequestView; fresh: boolean }> => {
        if (idempotencyKey) {
          const claim = await this.requests.claimIdempotencyKey(manager, actor.id, idempotencyKey, requestHash);
          if (claim !== 'claimed') {
            if (claim.requestHash !== requestHash) {
              throw new DomainError('unprocessable', 'This Idempotency-Key was already used with a different body');
            }
            return { view: claim.responseBody as unknown as RequestView, fresh: false };
          }
        }
        await this.requests.insertRequest(manager, request);
        const events: NewEvent[] = [createdEvent];
        // A new request has no dependents yet, so its own links cannot close a cycle.
        for (const dependsOnId of dependsOn) {
          await this.requests.addDependency(manager, { requestId: request.id, dependsOnId, createdBy: actor.id, createdAt });
          events.push({ requestId: request.id, actorId: actor.id, type: 'dependency_added', at: createdAt, after: { dependsOnId } });
        }
        await this.requests.appendEvents(manager, events);
        if (idempotencyKey) await this.requests.recordIdempotentAnswer(manager, actor.id, idempotencyKey, request.id, 201, view);
        return { view, fresh: true };
      });
    }
    if (created.fresh) {
      this.deadlines.schedule([
        { requestId: created.view.id, clockVersion: 1, kind: firstTimer.nextDeadlineKind, dueAt: firstTimer.nextDeadlineAt.getTime() },
      ]);
      // Linked or promised: its chain's figures (and any blocked pause) change now.
      if (dependsOn.length || request.externalDueAt || request.neededBy) {
        await this.chains.recompute([request.id]);
        return this.presenter.presentOne((await this.requests.findById(request.id))!, this.clock.now());
      }
    }
    return created.view;
  }

  async get(actor: Actor, id: string): Promise<RequestView> {
    const request = await this.requests.findById(id);
    assertVisible(actor, request);
    return this.presenter.presentOne(request, this.clock.now());
  }

  async list(actor: Actor, query: RequestListQuery): Promise<Page<RequestView>> {
    const limit = query.limit ?? 50;
    const after = query.cursor ? decodeCursor(query.cursor, ['instant', 'uuid']) : undefined;
    const now = this.clock.now();
    const rows = await this.requests.list(actor, {
      statuses: query.status?.split(','),
      providerDepartmentId: query.providerDepartmentId,
      customerDepartmentId: query.customerDepartmentId,
      breached: query.breached === undefined ? undefined : query.breached === 'true',
      atRisk: query.atRisk === undefined ? undefined : query.atRisk === 'true',
      after: after ? { createdAt: after[0], id: after[1] } : undefined,
      now,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: await this.presenter.present(page, now),
      nextCursor: rows.length > limit ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  /** Assignee and priority, provider side only. A priority change re-applies the agreement from the original start. */
  async update(actor: Actor, id: string, dto: UpdateRequestDto): Promise<RequestView> {
    const now = new Date(toClockInstant(this.clock.now()));
    const current = await this.requests.findById(id);
    assertVisible(actor, current);
    if (!sidesOf(actor, current).has('provider')) throw forbidden('Only the provider department may change assignee or priority');
    if (current.version !== dto.version) throw staleVersion(current.version);

    const changes: Partial<ServiceRequest> = {};
    const events: NewEvent[] = [];
    if (dto.assigneeId !== undefined && dto.assigneeId !== current.assigneeId) {
      if (dto.assigneeId !== null) {
        const assignee = await this.users.findById(dto.assigneeId);
        if (!assignee || !assignee.active || assignee.departmentId !== current.providerDepartmentId) {
          throw invalid([{ field: 'assigneeId', message: 'must be an active user of the provider department' }]);
        }
      }
      changes.assigneeId = dto.assigneeId;
      events.push({ requestId: id, actorId: actor.id, type: 'assigned', at: now, before: { assigneeId: current.assigneeId }, after: { assigneeId: dto.assigneeId } });
    }
    if (dto.priority !== undefined && dto.priority !== current.priority) {
      if (isFinished(current.status)) {
        throw conflict(`The clocks of a ${current.status} request are final: its priority cannot change${current.status === 'resolved' ? ' unless it is reopened' : ''}`, {
          status: current.status,
        });
      }
      Object.assign(changes, await this.reapplyAgreement(current, dto.priority));
      events.push({
        requestId: id,
        actorId: actor.id,
        type: 'priority_changed',
        at: now,
        before: { priority: current.priority, agreementId: current.agreementId, agreementVersion: current.agreementVersion, respondBy: current.respondBy.toISOString(), resolveBy: current.resolveBy.toISOString() },
        after: {
          priority: dto.priority,
          agreementId: changes.agreementId ?? current.agreementId,
          agreementVersion: changes.agreementVersion ?? current.agreementVersion,
          respondBy: (changes.respondBy ?? current.respondBy).toISOString(),
          resolveBy: (changes.resolveBy ?? current.resolveBy).toISOString(),
        },
      });
    }
    if (events.length === 0) return this.presenter.presentOne(current, this.clock.now());
    const calendar = changes.terms ? await this.clocks.calendarFor(changes.terms) : null;
    const timer = await this.requests.transaction(async (manager) => {
      if (!(await this.requests.updateIfVersion(manager, id, dto.version, changes))) {
        const fresh = await this.requests.findById(id, manager);
        throw staleVersion(fresh?.version ?? dto.version);
      }
      await this.requests.appendEvents(manager, events);
      return calendar ? this.deadlines.replan(manager, id, calendar) : null;
    });
    this.deadlines.schedule([timer]);
    if (changes.terms) await this.chains.afterChange([current]);
    return this.get(actor, id);
  }

  /**
   * The agreement for the new priority, applied from the original start with the paused time kept,
   * to the clocks still running (docs/api.md, "Changing the priority"): a response already given
   * keeps its respondBy, and a breach once recorded stays recorded (its escalation went out and
   * does not fire again). The same agreement as before keeps the terms the request has; the agreement
   * it was opened under, come back to, gives that version's terms again.
   */
  private async reapplyAgreement(request: ServiceRequest, priority: Priority): Promise<Partial<ServiceRequest>> {
    const [agreement, provider] = await Promise.all([
      this.agreements.findApplicable(request.serviceId, request.customerDepartmentId, priority),
      this.departments.findById(request.providerDepartmentId),
    ]);
    if (!agreement || !provider) {
      throw new DomainError('unprocessable', `No agreement covers this service for the customer department at priority ${priority}`);
    }
    if (agreement.id === request.agreementId) return { priority };
    // Back to the agreement it was opened under (a detour through another priority): that version's terms.
    let source: Agreement = agreement;
    const opened = await this.requests.openedUnder(request);
    if (opened.agreementId === agreement.id && opened.agreementVersion !== agreement.version) {
      const snapshot = await this.agreements.version(opened.agreementId, opened.agreementVersion);
      if (snapshot) source = { ...agreement, ...snapshot.terms, id: agreement.id, version: opened.agreementVersion };
    }
    const terms = termsOf(source, provider.calendarId, provider.timezone);
    const calendar = await this.clocks.calendarFor(terms);
    const pauses = await this.requests.pausesOf([request.id]);
    const deadlines = this.clocks.deadlines(calendar, terms, request.createdAt, pauses);
    return {
      priority,
      agreementId: source.id,
      agreementVersion: source.version,
      terms,
      respondBy: request.respondedAt ? request.respondBy : deadlines.respondBy,
      resolveBy: deadlines.resolveBy,
      pausedSeconds: deadlines.pausedSeconds,
    };
  }

  async events(actor: Actor, id: string, cursor: string | undefined, limit = 100): Promise<Page<RequestEventView>> {
    const request = await this.requests.findById(id);
    assertVisible(actor, request);
    const afterId = cursor ? decodeCursor(cursor, ['digits'])[0] : undefined;
    const rows = await this.requests.events(id, afterId, limit + 1);
    const items = rows.slice(0, limit).map((e) => ({
      id: String(e.id),
      type: e.type,
      at: e.at.toISOString(),
      actorId: e.actorId,
      before: e.before,
      after: e.after,
    }));
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
  }

  async mustSee(actor: Actor, id: string): Promise<ServiceRequest> {
    const request = await this.requests.findById(id);
    if (!request) throw notFound('Request');
    assertVisible(actor, request);
    return request;
  }
}
