import { Injectable } from '@nestjs/common';
import { isOutOfReach, parseIsoDuration } from '../business-time';
import { Clock } from '../common/clock';
import { decodeCursor, Page, pageOf } from '../common/cursor';
import { conflict, forbidden, invalid, notFound, type FieldProblem } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { CalendarsRepository } from '../org/calendars.repository';
import { DepartmentsRepository } from '../org/departments.repository';
import { ProviderServicesRepository } from '../org/provider-services.repository';
import { Agreement } from './agreement.entity';
import type { EscalationLevel } from './agreement-terms';
import { AgreementView, CreateAgreementDto, UpdateAgreementDto } from './agreement.dto';
import { AgreementsRepository } from './agreements.repository';

/** Admin, ops, or the head of the providing department may write its agreements. */
const mayManageAgreements = (actor: Actor, providerDepartmentId: string) =>
  actor.role === 'admin' || actor.role === 'ops' || (actor.role === 'head' && actor.departmentId === providerDepartmentId);

@Injectable()
export class AgreementsService {
  constructor(
    private readonly agreements: AgreementsRepository,
    private readonly services: ProviderServicesRepository,
    private readonly departments: DepartmentsRepository,
    private readonly calendars: CalendarsRepository,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateAgreementDto): Promise<AgreementView> {
    const service = await this.services.findById(dto.serviceId);
    const problems: FieldProblem[] = [];
    if (!service) problems.push({ field: 'serviceId', message: 'no service has this id' });
    if (dto.customerDepartmentId && !(await this.departments.findById(dto.customerDepartmentId))) {
      problems.push({ field: 'customerDepartmentId', message: 'no department has this id' });
    }
    problems.push(...(await this.termProblems(dto.responseTarget, dto.resolutionTarget, dto.calendarId)));
    if (problems.length) throw invalid(problems);
    if (!mayManageAgreements(actor, service!.departmentId)) {
      throw forbidden("Only admin, ops or the provider department's head may add its agreements");
    }
    const unreachable = await this.reachProblems(service!.departmentId, dto.calendarId, dto.resolutionTarget);
    if (unreachable.length) throw invalid(unreachable);
    try {
      const saved = await this.agreements.saveVersion(
        {
          serviceId: dto.serviceId,
          customerDepartmentId: dto.customerDepartmentId ?? null,
          priority: dto.priority ?? null,
          version: 1,
          responseTarget: dto.responseTarget,
          responseTargetSeconds: parseIsoDuration(dto.responseTarget)!,
          resolutionTarget: dto.resolutionTarget,
          resolutionTargetSeconds: parseIsoDuration(dto.resolutionTarget)!,
          calendarId: dto.calendarId ?? null,
          warnAtPercent: dto.warnAtPercent ?? 75,
          pauseWhileBlocked: dto.pauseWhileBlocked ?? true,
          escalations: sortLevels(dto.escalations ?? []),
          active: true,
        },
        actor.id,
      );
      return viewOfAgreement(saved);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw conflict('An active agreement already covers this service, customer department and priority; change that one instead');
      }
      throw error;
    }
  }

  async get(id: string): Promise<AgreementView> {
    const agreement = await this.agreements.findById(id);
    if (!agreement) throw notFound('Agreement');
    return viewOfAgreement(agreement);
  }

  async list(serviceId: string | undefined, cursor: string | undefined, limit = 50): Promise<Page<AgreementView>> {
    const after = cursor ? decodeCursor(cursor, ['uuid'])[0] : undefined;
    const rows = await this.agreements.list(serviceId, after, limit + 1);
    return pageOf(rows.map(viewOfAgreement), limit, (a) => [a.id]);
  }

  /** Every change makes a new version; requests already open keep the version they were opened under. */
  async update(actor: Actor, id: string, dto: UpdateAgreementDto): Promise<AgreementView> {
    const agreement = await this.agreements.findById(id);
    if (!agreement) throw notFound('Agreement');
    const service = await this.services.findById(agreement.serviceId);
    if (!service || !mayManageAgreements(actor, service.departmentId)) {
      throw forbidden("Only admin, ops or the provider department's head may change its agreements");
    }
    const responseTarget = dto.responseTarget ?? agreement.responseTarget;
    const resolutionTarget = dto.resolutionTarget ?? agreement.resolutionTarget;
    const problems = await this.termProblems(responseTarget, resolutionTarget, dto.calendarId);
    if (problems.length === 0) {
      problems.push(...(await this.reachProblems(service.departmentId, dto.calendarId === undefined ? agreement.calendarId : dto.calendarId, resolutionTarget)));
    }
    if (problems.length) throw invalid(problems);
    const next: Agreement = {
      ...agreement,
      version: agreement.version + 1,
      responseTarget,
      responseTargetSeconds: parseIsoDuration(responseTarget)!,
      resolutionTarget,
      resolutionTargetSeconds: parseIsoDuration(resolutionTarget)!,
      calendarId: dto.calendarId === undefined ? agreement.calendarId : dto.calendarId,
      warnAtPercent: dto.warnAtPercent ?? agreement.warnAtPercent,
      pauseWhileBlocked: dto.pauseWhileBlocked ?? agreement.pauseWhileBlocked,
      escalations: dto.escalations ? sortLevels(dto.escalations) : agreement.escalations,
      active: dto.active ?? agreement.active,
    };
    // Nothing the terms say has changed (an empty PATCH, the same values again, PT1800S for PT30M): no new version.
    const same = (a: Agreement) =>
      JSON.stringify([a.responseTargetSeconds, a.resolutionTargetSeconds, a.calendarId, a.warnAtPercent, a.pauseWhileBlocked, a.escalations.map((l) => [l.atPercent, l.notify]), a.active]);
    if (same(next) === same(agreement)) return viewOfAgreement(agreement);
    try {
      return viewOfAgreement(await this.agreements.saveVersion(next, actor.id));
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw conflict('Another active agreement already covers this scope');
      }
      throw error;
    }
  }

  /**
   * A resolution target its calendar (the agreement's, else the provider department's) cannot reach
   * within a century — PT100H in a calendar open one minute a week — would make every request under
   * it a 422, each after seconds of searching; refused here instead.
   */
  private async reachProblems(providerDepartmentId: string, calendarId: string | null | undefined, resolutionTarget: string): Promise<FieldProblem[]> {
    const effective = calendarId ?? (await this.departments.findById(providerDepartmentId))?.calendarId ?? null;
    if (!effective) return [];
    const calendar = await this.calendars.businessCalendar(effective, 'UTC');
    try {
      calendar.addBusinessSeconds(this.clock.now().getTime(), parseIsoDuration(resolutionTarget)!);
      return [];
    } catch (error) {
      if (!isOutOfReach(error)) throw error;
      return [{ field: 'resolutionTarget', message: "cannot be reached within a century of the calendar's open time; choose a shorter target or a calendar open more often" }];
    }
  }

  private async termProblems(responseTarget: string, resolutionTarget: string, calendarId?: string | null): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    const response = parseIsoDuration(responseTarget);
    const resolution = parseIsoDuration(resolutionTarget);
    if (response !== null && resolution !== null && response > resolution) {
      problems.push({ field: 'responseTarget', message: 'must not be longer than resolutionTarget' });
    }
    if (calendarId && !(await this.calendars.findById(calendarId))) {
      problems.push({ field: 'calendarId', message: 'no calendar has this id' });
    }
    return problems;
  }
}

function sortLevels(levels: readonly EscalationLevel[]): EscalationLevel[] {
  return levels.map(({ atPercent, notify }) => ({ atPercent, notify })).sort((a, b) => a.atPercent - b.atPercent);
}

export function viewOfAgreement(a: Agreement): AgreementView {
  return {
    id: a.id,
    serviceId: a.serviceId,
    customerDepartmentId: a.customerDepartmentId,
    priority: a.priority,
    version: a.version,
    responseTarget: a.responseTarget,
    resolutionTarget: a.resolutionTarget,
    calendarId: a.calendarId,
    warnAtPercent: a.warnAtPercent,
    pauseWhileBlocked: a.pauseWhileBlocked,
    escalations: a.escalations,
    active: a.active,
  };
}
