import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NIL_UUID } from '../common/uuid';
import { TtlCache } from '../common/ttl-cache';
import type { ReportDimension } from './report-rollup.entity';
import type { SlaPartial } from './sla-figures';

/** One group's partial figures in one bucket (1-based, as width_bucket numbers them). */
export interface BucketPartial extends Partial<SlaPartial> {
  bucket: number;
  groupId: string;
  partnerId: string;
}

export interface NamedRef {
  id: string;
  code: string;
  name: string;
}

export interface ReportLabels {
  departments: Map<string, NamedRef>;
  services: Map<string, NamedRef & { departmentId: string }>;
}

/** Whose rows a head may read: those where their department is the provider or the customer. */
export type ReportScope = { departmentId: string } | null;

interface PartialRow {
  bucket: number;
  group_id: string;
  partner_id: string;
  total?: number;
  cancelled?: number;
  response_met?: number;
  response_breached?: number;
  resolution_met?: number;
  resolution_breached?: number;
  breached_either?: number;
  open?: number;
  at_risk?: number;
  respond_seconds?: Buffer | null;
  resolve_seconds?: Buffer | null;
}

/** The group columns of a row of `requests` or `report_open_requests`, as report_groups() defines them. */
function groupColumns(dimension: ReportDimension, alias: string): string {
  const nil = `'${NIL_UUID}'::uuid`;
  switch (dimension) {
    case 'provider':
      return `${alias}.provider_department_id AS group_id, ${nil} AS partner_id`;
    case 'customer':
      return `${alias}.customer_department_id AS group_id, ${nil} AS partner_id`;
    case 'service':
      return `${alias}.service_id AS group_id, ${nil} AS partner_id`;
    case 'pair':
      return `${alias}.provider_department_id AS group_id, ${alias}.customer_department_id AS partner_id`;
  }
}

/** A head's rows among the requests (or open requests): provider for provider and service rows, customer for customer rows, either for pairs. */
function requestScope(dimension: ReportDimension, alias: string, parameter: string): string {
  switch (dimension) {
    case 'provider':
    case 'service':
      return `${alias}.provider_department_id = ${parameter}`;
    case 'customer':
      return `${alias}.customer_department_id = ${parameter}`;
    case 'pair':
      return `(${alias}.provider_department_id = ${parameter} OR ${alias}.customer_department_id = ${parameter})`;
  }
}

function rollupScope(dimension: ReportDimension, parameter: string): string {
  switch (dimension) {
    case 'provider':
    case 'customer':
      return `d.group_id = ${parameter}`;
    case 'service':
      return `d.group_id IN (SELECT id FROM services WHERE department_id = ${parameter})`;
    case 'pair':
      return `(d.group_id = ${parameter} OR d.partner_id = ${parameter})`;
  }
}

const toPartial = (row: PartialRow): BucketPartial => ({
  bucket: row.bucket,
  groupId: row.group_id,
  partnerId: row.partner_id,
  total: row.total,
  cancelled: row.cancelled,
  responseMet: row.response_met,
  responseBreached: row.response_breached,
  resolutionMet: row.resolution_met,
  resolutionBreached: row.resolution_breached,
  breachedEither: row.breached_either,
  open: row.open,
  atRisk: row.at_risk,
  respondSeconds: row.respond_seconds?.length ? [row.respond_seconds] : [],
  resolveSeconds: row.resolve_seconds?.length ? [row.resolve_seconds] : [],
});

const STOPPED_CLOCK_SUMS = (source: string) => `
  sum(${source}.cancelled)::integer AS cancelled,
  sum(${source}.response_met)::integer AS response_met,
  sum(${source}.response_breached)::integer AS response_breached,
  sum(${source}.resolution_met)::integer AS resolution_met,
  sum(${source}.resolution_breached)::integer AS resolution_breached,
  sum(${source}.breached_either)::integer AS breached_either`;

// Departments are few and each has many requests: an answer row per ISO week keeps a month of a
// busy department's seconds out of one huge field, which is slower to build and read than five.
const WEEKLY_CHUNKS = new Set<ReportDimension>(['provider', 'customer']);

/**
 * The SLA report's three reads, each grouped by bucket and group. Bucket bounds go in as a
 * timestamptz array and width_bucket() places every day or request; what counts as met, breached
 * or open is defined once, in the SQL functions of migrations/1764300000000-reports.ts.
 */
@Injectable()
export class SlaReportRepository {
  // Names change rarely; a rename shows in reports within five seconds.
  private readonly labelCache = new TtlCache<ReportLabels>(5_000, 1);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Whole ISO weeks and UTC days from the roll-up: stopped clocks' outcomes and their business seconds. */
  async rolledUp(dimension: ReportDimension, spans: { weeks: string[]; days: string[] }, bounds: Date[], scope: ReportScope): Promise<BucketPartial[]> {
    if (spans.days.length === 0 && spans.weeks.length === 0) return [];
    // PostgreSQL's planner prices sorting thousands of pair rows (a few hundred bytes each) below
    // hashing them into groups, and is wrong by a factor of two: it hashes here.
    const rows: PartialRow[] = await this.dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL enable_sort = off`);
      return manager.query(
        `SELECT width_bucket((d.day::timestamp AT TIME ZONE 'UTC'), $3::timestamptz[]) AS bucket, d.group_id, d.partner_id,
           sum(d.total)::integer AS total, ${STOPPED_CLOCK_SUMS('d')},
           string_agg(d.respond_seconds, ''::bytea) AS respond_seconds,
           string_agg(d.resolve_seconds, ''::bytea) AS resolve_seconds
         FROM report_daily d
         WHERE d.dimension = $1 AND ((d.span = 'day' AND d.day = ANY($2::date[])) OR (d.span = 'week' AND d.day = ANY($4::date[])))
           ${scope ? `AND ${rollupScope(dimension, '$5')}` : ''}
         GROUP BY 1, 2, 3 ${WEEKLY_CHUNKS.has(dimension) ? `, (d.day - DATE '2000-01-03') / 7` : ''}`,
        [dimension, spans.days, bounds, spans.weeks, ...(scope ? [scope.departmentId] : [])],
      );
    });
    return rows.map(toPartial);
  }

  /** The same figures from the requests themselves, for the parts of the window that are not whole UTC days. */
  async fromRequests(dimension: ReportDimension, edges: { start: Date; end: Date }[], bounds: Date[], scope: ReportScope): Promise<BucketPartial[]> {
    if (edges.length === 0) return [];
    const params: unknown[] = [bounds];
    if (scope) params.push(scope.departmentId);
    // Spelled out, so the planner sees each range and walks requests_created_idx for it.
    const spans = edges.map((e) => {
      params.push(e.start, e.end);
      return `(r.created_at >= $${params.length - 1} AND r.created_at < $${params.length})`;
    });
    const rows: PartialRow[] = await this.dataSource.query(
      `SELECT width_bucket(r.created_at, $1::timestamptz[]) AS bucket, ${groupColumns(dimension, 'r')},
         count(*)::integer AS total, ${STOPPED_CLOCK_SUMS('f')},
         string_agg(f.respond_bytes, ''::bytea) AS respond_seconds,
         string_agg(f.resolve_bytes, ''::bytea) AS resolve_seconds
       FROM requests r CROSS JOIN LATERAL report_facts(r) f
       WHERE (${spans.join(' OR ')}) ${scope ? `AND ${requestScope(dimension, 'r', '$2')}` : ''}
       GROUP BY 1, 2, 3`,
      params,
    );
    return rows.map(toPartial);
  }

  /** Open requests created in the window: backlog, at-risk, and clocks that have run past their deadline by now. */
  async open(dimension: ReportDimension, from: Date, to: Date, bounds: Date[], now: Date, scope: ReportScope): Promise<BucketPartial[]> {
    const rows: PartialRow[] = await this.dataSource.query(
      `SELECT width_bucket(o.created_at, $3::timestamptz[]) AS bucket, ${groupColumns(dimension, 'o')},
         count(*)::integer AS open,
         count(*) FILTER (WHERE o.at_risk)::integer AS at_risk,
         count(*) FILTER (WHERE o.respond_due < $4)::integer AS response_breached,
         count(*) FILTER (WHERE o.resolve_due < $4)::integer AS resolution_breached,
         count(*) FILTER (WHERE NOT o.breached_static AND (o.respond_due < $4 OR o.resolve_due < $4))::integer AS breached_either
       FROM report_open_requests o
       WHERE o.created_at >= $1 AND o.created_at < $2 ${scope ? `AND ${requestScope(dimension, 'o', '$5')}` : ''}
       GROUP BY 1, 2, 3`,
      [from, to, bounds, now, ...(scope ? [scope.departmentId] : [])],
    );
    return rows.map(toPartial);
  }

  /** Codes and names of every department and service, to label rows. */
  labels(): Promise<ReportLabels> {
    return this.labelCache.get('all', () => this.loadLabels());
  }

  private async loadLabels(): Promise<ReportLabels> {
    const [departments, services] = await Promise.all([
      this.dataSource.query(`SELECT id, code, name FROM departments`) as Promise<NamedRef[]>,
      this.dataSource.query(`SELECT id, code, name, department_id AS "departmentId" FROM services`) as Promise<(NamedRef & { departmentId: string })[]>,
    ]);
    return { departments: new Map(departments.map((d) => [d.id, d])), services: new Map(services.map((s) => [s.id, s])) };
  }
}
