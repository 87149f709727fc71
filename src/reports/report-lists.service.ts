import { Injectable } from '@nestjs/common';
import { decodeCursor, pageOf } from '../common/cursor';
import { DomainError } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { ReportListsRepository } from './report-lists.repository';
import type { AtRiskPageView, AtRiskQuery, DepartmentRef, EscalationLogQuery, EscalationLogView } from './report.dto';
import { parseReportInstant } from './report-window';
import { SlaReportRepository, type ReportLabels } from './sla-report.repository';
import { reportScopeOf } from './sla-report.service';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function refOf(map: ReportLabels['departments'] | ReportLabels['services'], id: string): DepartmentRef {
  const found = map.get(id);
  return { id, code: found?.code ?? '?', name: found?.name ?? 'unknown' };
}

/** The at-risk list (open requests by chain slack) and the escalation log, limited to what the reader may see. */
@Injectable()
export class ReportListsService {
  constructor(
    private readonly lists: ReportListsRepository,
    private readonly reports: SlaReportRepository,
  ) {}

  async atRisk(actor: Actor, query: AtRiskQuery): Promise<AtRiskPageView> {
    const limit = query.limit ?? 50;
    let after: { slackSeconds: number; id: string } | null = null;
    if (query.cursor) {
      const [slack, id] = decodeCursor(query.cursor, ['text', 'uuid']);
      if (!/^-?\d{1,10}$/.test(slack)) {
        throw new DomainError('invalid', 'cursor: is not a cursor this list gave out', [{ field: 'cursor', message: 'is not a cursor this list gave out' }]);
      }
      after = { slackSeconds: Number(slack), id };
    }
    const [rows, labels] = await Promise.all([
      this.lists.atRisk(reportScopeOf(actor), query.onlyAtRisk === 'true', after, limit + 1),
      this.reports.labels(),
    ]);
    const items = rows.map((r) => ({
      id: r.id,
      title: r.title,
      status: r.status,
      priority: r.priority,
      provider: refOf(labels.departments, r.provider_department_id),
      customer: refOf(labels.departments, r.customer_department_id),
      service: refOf(labels.services, r.service_id),
      slackSeconds: r.slack_seconds,
      atRisk: r.at_risk,
      atRiskSince: iso(r.at_risk_since),
      projectedFinishAt: iso(r.projected_finish_at),
      latestFinishAt: iso(r.latest_finish_at),
      resolveBy: r.resolve_by.toISOString(),
      externalRef: r.external_ref,
      externalDueAt: iso(r.external_due_at),
      bottleneckRequestId: r.bottleneck_request_id,
    }));
    return pageOf(items, limit, (item) => [String(item.slackSeconds), item.id]);
  }

  async escalations(actor: Actor, query: EscalationLogQuery): Promise<EscalationLogView> {
    const before = query.before === undefined ? null : parseReportInstant(query.before, 'UTC');
    if (query.before !== undefined && before === null) {
      throw new DomainError('invalid', 'before: is not a real instant', [{ field: 'before', message: 'is not a real instant' }]);
    }
    const limit = query.limit ?? 50;
    let after: { firedAt: Date; id: string } | null = null;
    if (query.cursor) {
      const [firedAt, id] = decodeCursor(query.cursor, ['instant', 'uuid']);
      after = { firedAt: new Date(firedAt), id };
    }
    const [rows, labels] = await Promise.all([
      this.lists.escalations(reportScopeOf(actor), before === null ? null : new Date(before), after, limit + 1),
      this.reports.labels(),
    ]);
    const items = rows.map((e) => ({
      id: e.id,
      requestId: e.request_id,
      requestTitle: e.title,
      kind: e.kind,
      dueAt: e.due_at.toISOString(),
      firedAt: e.fired_at.toISOString(),
      provider: refOf(labels.departments, e.provider_department_id),
      customer: refOf(labels.departments, e.customer_department_id),
      recipients: e.recipients,
    }));
    return pageOf(items, limit, (item) => [item.firedAt, item.id]);
  }
}
