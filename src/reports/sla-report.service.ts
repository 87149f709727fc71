import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { invalid } from '../common/domain-error';
import { NIL_UUID } from '../common/uuid';
import { isOpsOrAdmin, type Actor } from '../identity/actor';
import { WEEKLY_DIMENSIONS, type ReportDimension } from './report-rollup.entity';
import { bucketBounds, MAX_BUCKETS, MAX_WINDOW_DAYS, parseReportInstant, slaWindow, trendWindow } from './report-window';
import type { SlaReportQuery, SlaReportView, SlaRowView, SlaTrendQuery, SlaTrendView } from './report.dto';
import { addPartial, emptyPartial, figuresOf, planWindow, type SlaPartial } from './sla-figures';
import { SlaReportRepository, type BucketPartial, type ReportLabels, type ReportScope } from './sla-report.repository';

const DAY_MS = 86_400_000;

/** ops and admin read every row; a head the rows of their own department (as provider, customer or either side of a pair). */
export function reportScopeOf(actor: Actor): ReportScope {
  return isOpsOrAdmin(actor) ? null : { departmentId: actor.departmentId ?? NIL_UUID };
}

/** Reads a from/to pair in `zone`; 400 with one message per bad field. */
export function readWindowEnds(query: { from?: string; to?: string }, zone: string): { from: number | null; to: number | null } {
  const from = query.from === undefined ? null : parseReportInstant(query.from, zone);
  const to = query.to === undefined ? null : parseReportInstant(query.to, zone);
  const problems = [];
  if (query.from !== undefined && from === null) problems.push({ field: 'from', message: 'is not a real date or instant between 2000 and 2200' });
  if (query.to !== undefined && to === null) problems.push({ field: 'to', message: 'is not a real date or instant between 2000 and 2200' });
  if (problems.length) throw invalid(problems);
  return { from, to };
}

export function assertWindow(window: { from: number; to: number }): void {
  if (window.to <= window.from) throw invalid([{ field: 'to', message: 'must be after from' }]);
  if (window.to - window.from > MAX_WINDOW_DAYS * DAY_MS) throw invalid([{ field: 'from', message: `must be at most ${MAX_WINDOW_DAYS} days before to` }]);
}

/** The SLA report and its trend: the roll-up for whole ISO weeks and UTC days, the requests themselves for the edges, open requests live. */
@Injectable()
export class SlaReportService {
  constructor(
    private readonly reports: SlaReportRepository,
    private readonly clock: Clock,
  ) {}

  async report(actor: Actor, query: SlaReportQuery): Promise<SlaReportView> {
    const zone = query.timezone ?? 'UTC';
    const groupBy = query.groupBy ?? 'provider';
    const now = this.clock.now().getTime();
    const ends = readWindowEnds(query, zone);
    const window = slaWindow(ends.from, ends.to, now);
    assertWindow(window);
    const [buckets, labels] = await Promise.all([this.compute(groupBy, [window.from, window.to], reportScopeOf(actor), now), this.reports.labels()]);
    return {
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      groupBy,
      asOf: new Date(now).toISOString(),
      rows: rowsOf(groupBy, buckets.get(1), labels),
    };
  }

  async trend(actor: Actor, query: SlaTrendQuery): Promise<SlaTrendView> {
    const zone = query.timezone ?? 'UTC';
    const groupBy = query.groupBy ?? 'provider';
    const interval = query.interval ?? 'day';
    const now = this.clock.now().getTime();
    const ends = readWindowEnds(query, zone);
    const window = trendWindow(ends.from, ends.to, interval, zone, now);
    assertWindow(window);
    const bounds = bucketBounds(window.from, window.to, interval, zone);
    if (bounds.length - 1 > MAX_BUCKETS) {
      throw invalid([{ field: 'from', message: `the window holds more than ${MAX_BUCKETS} buckets of a ${interval}; shorten it or use a longer interval` }]);
    }
    const [buckets, labels] = await Promise.all([this.compute(groupBy, bounds, reportScopeOf(actor), now), this.reports.labels()]);
    return {
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      groupBy,
      interval,
      timezone: zone,
      asOf: new Date(now).toISOString(),
      buckets: bounds.slice(0, -1).map((start, i) => ({
        start: new Date(start).toISOString(),
        end: new Date(bounds[i + 1]).toISOString(),
        rows: rowsOf(groupBy, buckets.get(i + 1), labels),
      })),
    };
  }

  /** Partial figures per bucket (1-based) and group key, from the three sources added together. */
  private async compute(dimension: ReportDimension, bounds: number[], scope: ReportScope, now: number): Promise<Map<number, Map<string, SlaPartial>>> {
    const plan = planWindow(bounds, WEEKLY_DIMENSIONS.has(dimension));
    const dates = bounds.map((b) => new Date(b));
    const sources = await Promise.all([
      this.reports.rolledUp(dimension, { weeks: plan.fullWeeks, days: plan.fullDays }, dates, scope),
      this.reports.fromRequests(dimension, plan.edges.map((e) => ({ start: new Date(e.start), end: new Date(e.end) })), dates, scope),
      this.reports.open(dimension, dates[0], dates[dates.length - 1], dates, new Date(now), scope),
    ]);
    const buckets = new Map<number, Map<string, SlaPartial>>();
    const add = (part: BucketPartial) => {
      let groups = buckets.get(part.bucket);
      if (!groups) buckets.set(part.bucket, (groups = new Map()));
      const key = `${part.groupId}:${part.partnerId}`;
      let sum = groups.get(key);
      if (!sum) groups.set(key, (sum = emptyPartial()));
      addPartial(sum, part);
    };
    for (const source of sources) source.forEach(add);
    return buckets;
  }
}

const unknownRef = (id: string) => ({ id, code: '?', name: 'unknown' });

function rowsOf(dimension: ReportDimension, groups: Map<string, SlaPartial> | undefined, labels: ReportLabels): SlaRowView[] {
  if (!groups) return [];
  const rows: SlaRowView[] = [];
  for (const [key, partial] of groups) {
    const [groupId, partnerId] = key.split(':');
    const figures = figuresOf(partial);
    if (dimension === 'pair') {
      const provider = labels.departments.get(groupId) ?? unknownRef(groupId);
      const customer = labels.departments.get(partnerId) ?? unknownRef(partnerId);
      rows.push({
        group: { id: key, code: `${provider.code}->${customer.code}`, name: `${provider.name} → ${customer.name}` },
        provider: { id: provider.id, code: provider.code, name: provider.name },
        customer: { id: customer.id, code: customer.code, name: customer.name },
        ...figures,
      });
    } else if (dimension === 'service') {
      const service = labels.services.get(groupId);
      const provider = service ? (labels.departments.get(service.departmentId) ?? unknownRef(service.departmentId)) : unknownRef(NIL_UUID);
      rows.push({
        group: { id: groupId, code: service?.code ?? '?', name: service?.name ?? 'unknown' },
        provider: { id: provider.id, code: provider.code, name: provider.name },
        ...figures,
      });
    } else {
      const department = labels.departments.get(groupId) ?? unknownRef(groupId);
      rows.push({ group: { id: groupId, code: department.code, name: department.name }, ...figures });
    }
  }
  const sortKey = (row: SlaRowView) => (row.provider && row.group.code !== row.provider.code ? `${row.provider.code}/${row.group.code}` : row.group.code);
  return rows.sort((a, b) => sortKey(a).localeCompare(sortKey(b)) || a.group.id.localeCompare(b.group.id));
}
