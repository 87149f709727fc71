import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { decodeCursor, encodeCursor, pageOf } from '../common/cursor';
import { DomainError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import type { Actor } from '../identity/actor';
import { ReportListsRepository, type AtRiskChainRow, type AtRiskRow } from './report-lists.repository';
import type { AtRiskChainView, AtRiskItemView, AtRiskPageView, AtRiskQuery, DepartmentRef, EscalationLogQuery, EscalationLogView } from './report.dto';
import { parseReportInstant } from './report-window';
import { SlaReportRepository, type ReportLabels } from './sla-report.repository';
import { reportScopeOf } from './sla-report.service';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function refOf(map: ReportLabels['departments'] | ReportLabels['services'], id: string): DepartmentRef {
  const found = map.get(id);
  return { id, code: found?.code ?? '?', name: found?.name ?? 'unknown' };
}

/** The at-risk list (open requests and chains by slack) and the escalation log, limited to what the reader may see. */
@Injectable()
export class ReportListsService {
  constructor(
    private readonly lists: ReportListsRepository,
    private readonly reports: SlaReportRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Open requests and chains, each least slack first. One cursor pages both: it holds where each
   * list stopped ('' once a list is done), so a page has up to `limit` of each.
   */
  async atRisk(actor: Actor, query: AtRiskQuery): Promise<AtRiskPageView> {
    const limit = query.limit ?? 50;
    const { requestsAfter, chainsAfter } = atRiskCursor(query.cursor);
    const scope = reportScopeOf(actor);
    const onlyAtRisk = query.onlyAtRisk === 'true';
    const [rows, chainRows, labels] = await Promise.all([
      requestsAfter === 'done' ? [] : this.lists.atRisk(scope, onlyAtRisk, requestsAfter, limit + 1),
      chainsAfter === 'done' ? [] : this.lists.atRiskChains(scope, onlyAtRisk, chainsAfter, limit + 1),
      this.reports.labels(),
    ]);
    const items = rows.slice(0, limit).map((r): AtRiskItemView => this.common(r, labels));
    const chains = chainRows.slice(0, limit).map(
      (r): AtRiskChainView => ({
        ...this.common(r, labels),
        openRequests: r.open_requests,
        neededBy: iso(r.needed_by),
        tightestRequestId: r.tightest_id,
        bottleneckRequestId: r.tightest_bottleneck_id,
      }),
    );
    const position = <T extends { slackSeconds: number; id: string }>(all: unknown[], page: T[]) =>
      all.length > limit ? [String(page[page.length - 1].slackSeconds), page[page.length - 1].id] : ['', ''];
    const key = [...position(rows, items), ...position(chainRows, chains)];
    return { asOf: this.clock.now().toISOString(), items, chains, nextCursor: key.every((k) => k === '') ? null : encodeCursor(key) };
  }

  private common(r: AtRiskRow | AtRiskChainRow, labels: ReportLabels) {
    return {
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
    };
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
    return { asOf: this.clock.now().toISOString(), ...pageOf(items, limit, (item) => [item.firedAt, item.id]) };
  }
}

type After = { slackSeconds: number; id: string } | null | 'done';

const notOurs = () => new DomainError('invalid', 'cursor: is not a cursor this list gave out', [{ field: 'cursor', message: 'is not a cursor this list gave out' }]);

/** Where each at-risk list goes on from: null from the start, 'done' once it has ended. */
function atRiskCursor(cursor: string | undefined): { requestsAfter: After; chainsAfter: After } {
  if (!cursor) return { requestsAfter: null, chainsAfter: null };
  const key = decodeCursor(cursor, ['text', 'text', 'text', 'text']);
  const after = (slack: string, id: string): After => {
    if (slack === '' && id === '') return 'done';
    if (!/^-?\d{1,10}$/.test(slack) || !isUuid(id)) throw notOurs();
    return { slackSeconds: Number(slack), id };
  };
  const requestsAfter = after(key[0], key[1]);
  const chainsAfter = after(key[2], key[3]);
  if (requestsAfter === 'done' && chainsAfter === 'done') throw notOurs();
  return { requestsAfter, chainsAfter };
}
