// The SLA report as one plain GROUP BY over the raw requests table: no roll-up, no SQL function
// of the reports migration, every rule of docs/reports.md written out again. The benchmark times
// it as the baseline and checks the fast report against it; the tests check the roll-up with it.

export type NaiveDimension = 'provider' | 'customer' | 'service' | 'pair';

export interface NaiveRow {
  groupId: string;
  partnerId: string | null;
  total: number;
  cancelled: number;
  responseMet: number;
  responseBreaches: number;
  resolutionMet: number;
  resolutionBreaches: number;
  breaches: number;
  respondP50Seconds: number | null;
  respondP90Seconds: number | null;
  resolveP50Seconds: number | null;
  resolveP90Seconds: number | null;
  open: number;
  atRisk: number;
}

const GROUP: Record<NaiveDimension, string> = {
  provider: 'provider_department_id AS group_id, NULL::uuid AS partner_id',
  customer: 'customer_department_id AS group_id, NULL::uuid AS partner_id',
  service: 'service_id AS group_id, NULL::uuid AS partner_id',
  pair: 'provider_department_id AS group_id, customer_department_id AS partner_id',
};

const RESPONSE_BREACHED = `(breached_response OR responded_at > respond_by OR (responded_at IS NULL AND respond_by < coalesce(cancelled_at, $3)))`;
const RESOLUTION_BREACHED = `(breached_resolution OR resolved_at > resolve_by OR (resolved_at IS NULL AND resolve_by < coalesce(paused_since, cancelled_at, $3)))`;
const OPEN = `status NOT IN ('resolved', 'closed', 'cancelled')`;

// percentile_cont's rank p·(n−1), interpolated in exact numeric arithmetic and rounded half up.
const percentile = (values: string, p: string) => `(SELECT round(v[1 + floor(${p} * (cardinality(v) - 1))::integer]
    + (v[1 + ceil(${p} * (cardinality(v) - 1))::integer] - v[1 + floor(${p} * (cardinality(v) - 1))::integer])
      * (${p} * (cardinality(v) - 1) - floor(${p} * (cardinality(v) - 1))))::integer
  FROM (SELECT ${values} AS v) x)`;

/** Parameters: $1 from (inclusive), $2 to (exclusive), $3 now. */
export function naiveSlaSql(dimension: NaiveDimension): string {
  return `SELECT group_id, partner_id, total, cancelled, response_met, response_breaches, resolution_met, resolution_breaches, breaches,
    ${percentile('respond', '0.5')} AS respond_p50, ${percentile('respond', '0.9')} AS respond_p90,
    ${percentile('resolve', '0.5')} AS resolve_p50, ${percentile('resolve', '0.9')} AS resolve_p90,
    open, at_risk
  FROM (SELECT ${GROUP[dimension]},
    count(*)::integer AS total,
    count(*) FILTER (WHERE status = 'cancelled')::integer AS cancelled,
    count(*) FILTER (WHERE responded_at IS NOT NULL AND NOT ${RESPONSE_BREACHED})::integer AS response_met,
    count(*) FILTER (WHERE ${RESPONSE_BREACHED})::integer AS response_breaches,
    count(*) FILTER (WHERE resolved_at IS NOT NULL AND NOT ${RESOLUTION_BREACHED})::integer AS resolution_met,
    count(*) FILTER (WHERE ${RESOLUTION_BREACHED})::integer AS resolution_breaches,
    count(*) FILTER (WHERE ${RESPONSE_BREACHED} OR ${RESOLUTION_BREACHED})::integer AS breaches,
    array_agg(respond_business_seconds ORDER BY respond_business_seconds) FILTER (WHERE respond_business_seconds IS NOT NULL) AS respond,
    array_agg(resolve_business_seconds ORDER BY resolve_business_seconds) FILTER (WHERE resolve_business_seconds IS NOT NULL) AS resolve,
    count(*) FILTER (WHERE ${OPEN})::integer AS open,
    count(*) FILTER (WHERE ${OPEN} AND at_risk)::integer AS at_risk
  FROM requests
  WHERE created_at >= $1 AND created_at < $2
  GROUP BY 1, 2) grouped`;
}

interface NaiveSqlRow {
  group_id: string;
  partner_id: string | null;
  total: number;
  cancelled: number;
  response_met: number;
  response_breaches: number;
  resolution_met: number;
  resolution_breaches: number;
  breaches: number;
  respond_p50: number | null;
  respond_p90: number | null;
  resolve_p50: number | null;
  resolve_p90: number | null;
  open: number;
  at_risk: number;
}

export function naiveRowsOf(rows: NaiveSqlRow[]): NaiveRow[] {
  return rows.map((r) => ({
    groupId: r.group_id,
    partnerId: r.partner_id,
    total: r.total,
    cancelled: r.cancelled,
    responseMet: r.response_met,
    responseBreaches: r.response_breaches,
    resolutionMet: r.resolution_met,
    resolutionBreaches: r.resolution_breaches,
    breaches: r.breaches,
    respondP50Seconds: r.respond_p50,
    respondP90Seconds: r.respond_p90,
    resolveP50Seconds: r.resolve_p50,
    resolveP90Seconds: r.resolve_p90,
    open: r.open,
    atRisk: r.at_risk,
  }));
}

/** The key a report row's group.id has: the id, or "provider:customer" for a pair. */
export const naiveKey = (row: Pick<NaiveRow, 'groupId' | 'partnerId'>) => (row.partnerId ? `${row.groupId}:${row.partnerId}` : row.groupId);

export type SqlRunner = (sql: string, params: unknown[]) => Promise<unknown[]>;

export async function naiveSlaReport(run: SqlRunner, dimension: NaiveDimension, from: Date, to: Date, now: Date): Promise<NaiveRow[]> {
  return naiveRowsOf((await run(naiveSlaSql(dimension), [from, to, now])) as NaiveSqlRow[]);
}
