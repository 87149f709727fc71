import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TtlCache } from '../common/ttl-cache';
import type { AgreementTerms } from '../agreements/agreement-terms';
import type { RequestPause } from '../requests/request-pause.entity';
import type { ServiceRequest } from '../requests/request.entity';
import type { ChainLink } from './chain-plan';

const MEDIAN_WINDOW_DAYS = 90;

/** `chain(id)`: every request linked to any of $1, in either direction, however far. */
const CHAIN_WALK = `WITH RECURSIVE chain(id) AS (
     SELECT unnest($1::uuid[])
     UNION
     SELECT CASE WHEN d.request_id = c.id THEN d.depends_on_id ELSE d.request_id END
     FROM request_dependencies d JOIN chain c ON d.request_id = c.id OR d.depends_on_id = c.id
   )`;

interface PauseRow {
  id: string;
  request_id: string;
  reason: RequestPause['reason'];
  started_at: Date;
  ended_at: Date | null;
  blocking_request_id: string | null;
}
const PAUSE_COLUMNS = 'id, request_id, reason, started_at, ended_at, blocking_request_id';

@Injectable()
export class ChainsRepository {
  // Lead times of services: their own, else the 90-day median; read per recompute, changing slowly.
  private readonly leadTimes = new TtlCache<number | null>(60_000);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every request linked to any of these, in either direction, however far: their chain. */
  async component(ids: readonly string[], manager?: EntityManager): Promise<string[]> {
    const rows: { id: string }[] = await (manager ?? this.dataSource.manager).query(`${CHAIN_WALK} SELECT id FROM chain`, [ids]);
    return rows.map((r) => r.id);
  }

  /**
   * The chain of these requests with what a recompute needs before its transaction (each
   * member's service and terms, for calendars and lead times), in one statement.
   */
  async members(ids: readonly string[]): Promise<{ id: string; serviceId: string; terms: AgreementTerms }[]> {
    const rows: { id: string; service_id: string; terms: AgreementTerms }[] = await this.dataSource.query(
      `${CHAIN_WALK} SELECT r.id, r.service_id, r.terms FROM chain JOIN requests r ON r.id = chain.id`,
      [ids],
    );
    return rows.map((r) => ({ id: r.id, serviceId: r.service_id, terms: r.terms }));
  }

  /** Whether a request takes part in any chain arithmetic: it has links or carries a promise. */
  async isChained(request: Pick<ServiceRequest, 'id' | 'externalDueAt' | 'neededBy' | 'latestFinishAt'>): Promise<boolean> {
    if (request.externalDueAt || request.neededBy || request.latestFinishAt) return true;
    const rows: unknown[] = await this.dataSource.query(
      'SELECT 1 FROM request_dependencies WHERE request_id = $1 OR depends_on_id = $1 LIMIT 1',
      [request.id],
    );
    return rows.length > 0;
  }

  /**
   * The chain's rows, locked in id order (single-row writers cannot deadlock with that). Plain SQL
   * with the entity's own column names: every column of `requests` is a type node-postgres already
   * parses as TypeORM would (uuid, text, integer, boolean, timestamptz, jsonb), and skipping
   * TypeORM's result mapping takes a third off this, the recompute's largest read.
   */
  async lockRequests(manager: EntityManager, ids: readonly string[]): Promise<ServiceRequest[]> {
    const metadata = manager.connection.getMetadata('ServiceRequest');
    this.requestColumns ??= metadata.columns.map((c) => `r."${c.databaseName}" AS "${c.propertyName}"`).join(', ');
    // First the dependency graph's advisory lock, shared (an InitPlan, run once before any row is
    // read): recomputes run side by side, a link change (which takes it exclusively) waits.
    const rows: Record<string, unknown>[] = await manager.query(
      `WITH graph AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(hashtext('handoff.request_dependencies')))
       SELECT ${this.requestColumns} FROM requests r
        WHERE r.id = ANY($1) AND EXISTS (SELECT 1 FROM graph)
        ORDER BY r.id FOR UPDATE OF r`,
      [ids],
    );
    return rows.map((row) => Object.assign(metadata.create() as ServiceRequest, row));
  }

  /** The chain's links and its requests' pauses, in one round trip. */
  async linksAndPauses(manager: EntityManager, ids: readonly string[]): Promise<{ links: ChainLink[]; pauses: RequestPause[] }> {
    const rows: ({ link: boolean; depends_on_id: string | null } & { [K in keyof PauseRow]: PauseRow[K] | null })[] = await manager.query(
      `SELECT true AS link, request_id, depends_on_id, NULL::uuid AS id, NULL::text AS reason, NULL::timestamptz AS started_at,
              NULL::timestamptz AS ended_at, NULL::uuid AS blocking_request_id
         FROM request_dependencies WHERE request_id = ANY($1)
       UNION ALL
       SELECT false, request_id, NULL, id, reason, started_at, ended_at, blocking_request_id FROM request_pauses WHERE request_id = ANY($1)`,
      [ids],
    );
    const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const links = rows
      .filter((r) => r.link)
      .map((r) => ({ requestId: r.request_id!, dependsOnId: r.depends_on_id! }))
      .sort((a, b) => byText(a.requestId, b.requestId) || byText(a.dependsOnId, b.dependsOnId));
    const pauses = this.toPauses(manager, rows.filter((r) => !r.link) as PauseRow[]).sort(
      (a, b) => a.startedAt.getTime() - b.startedAt.getTime() || byText(a.id, b.id),
    );
    return { links, pauses };
  }

  private requestColumns?: string;

  readRequests(ids: readonly string[]): Promise<ServiceRequest[]> {
    return this.dataSource.getRepository<ServiceRequest>('ServiceRequest').createQueryBuilder('r').where('r.id IN (:...ids)', { ids }).getMany();
  }

  async links(manager: EntityManager | undefined, ids: readonly string[]): Promise<ChainLink[]> {
    const rows: { request_id: string; depends_on_id: string }[] = await (manager ?? this.dataSource.manager).query(
      'SELECT request_id, depends_on_id FROM request_dependencies WHERE request_id = ANY($1) ORDER BY request_id, depends_on_id',
      [ids],
    );
    return rows.map((r) => ({ requestId: r.request_id, dependsOnId: r.depends_on_id }));
  }

  /** Every pause of these requests, oldest first (plain SQL, as lockRequests). */
  async pauses(manager: EntityManager, ids: readonly string[]): Promise<RequestPause[]> {
    const rows: PauseRow[] = await manager.query(`SELECT ${PAUSE_COLUMNS} FROM request_pauses WHERE request_id = ANY($1) ORDER BY started_at, id`, [ids]);
    return this.toPauses(manager, rows);
  }

  private toPauses(manager: EntityManager, rows: readonly PauseRow[]): RequestPause[] {
    const metadata = manager.connection.getMetadata('RequestPause');
    return rows.map((r) =>
      Object.assign(metadata.create() as RequestPause, {
        id: r.id,
        requestId: r.request_id,
        reason: r.reason,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        blockingRequestId: r.blocking_request_id,
      }),
    );
  }

  /** The service's lead time in business seconds, else its median resolution over 90 days, else null. */
  leadTime(serviceId: string): Promise<number | null> {
    return this.leadTimes.get(serviceId, async () => {
      // The median is computed only for a service without a lead time of its own.
      const rows: { lead: number | null }[] = await this.dataSource.query(
        `SELECT COALESCE(s.lead_time_seconds,
                  (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.resolve_business_seconds))::integer
                     FROM requests r
                    WHERE r.service_id = s.id AND r.resolve_business_seconds IS NOT NULL
                      AND r.resolved_at > now() - make_interval(days => $2))) AS lead
           FROM services s WHERE s.id = $1`,
        [serviceId, MEDIAN_WINDOW_DAYS],
      );
      return rows[0]?.lead ?? null;
    });
  }

  forgetLeadTime(serviceId: string): void {
    this.leadTimes.delete(serviceId);
  }

  /** Open requests of a service whose figures a chain keeps (linked, or carrying a promise or needed-by). */
  async openChainedOfService(serviceId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT r.id FROM requests r
        WHERE r.service_id = $1 AND r.status NOT IN ('resolved', 'closed', 'cancelled')
          AND (r.external_due_at IS NOT NULL OR r.needed_by IS NOT NULL
               OR EXISTS (SELECT 1 FROM request_dependencies d WHERE d.request_id = r.id OR d.depends_on_id = r.id))`,
      [serviceId],
    );
    return rows.map((r) => r.id);
  }

  async openBlockedRequests(ids: readonly string[]): Promise<Set<string>> {
    const rows: { request_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT request_id FROM request_pauses WHERE request_id = ANY($1) AND reason = 'blocked' AND ended_at IS NULL`,
      [ids],
    );
    return new Set(rows.map((r) => r.request_id));
  }

  async departments(ids: readonly string[]): Promise<Map<string, { id: string; code: string; name: string; headEmail: string | null }>> {
    const rows: { id: string; code: string; name: string; head_email: string | null }[] = await this.dataSource.query(
      `SELECT d.id, d.code, d.name, u.email AS head_email FROM departments d LEFT JOIN users u ON u.id = d.head_user_id AND u.active WHERE d.id = ANY($1)`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { id: r.id, code: r.code, name: r.name, headEmail: r.head_email }]));
  }

  /**
   * Writes these nodes' chain figures in one statement. `relaxedCommit`: the transaction wrote
   * nothing but derived figures, so its commit need not wait for the WAL flush (set in the same
   * statement, or alone when no figure moved).
   */
  async writePlans(
    manager: EntityManager,
    rows: { id: string; projectedFinishAt: Date | null; latestFinishAt: Date | null; slackSeconds: number | null; atRisk: boolean; bottleneckRequestId: string | null }[],
    relaxedCommit = false,
  ): Promise<void> {
    const relax = `SELECT set_config('synchronous_commit', 'off', true)`;
    if (rows.length === 0) {
      if (relaxedCommit) await manager.query(relax);
      return;
    }
    const values: unknown[] = [];
    const tuples = rows.map((r, i) => {
      values.push(r.id, r.projectedFinishAt, r.latestFinishAt, r.slackSeconds, r.atRisk, r.bottleneckRequestId);
      const b = i * 6;
      return `($${b + 1}::uuid, $${b + 2}::timestamptz, $${b + 3}::timestamptz, $${b + 4}::integer, $${b + 5}::boolean, $${b + 6}::uuid)`;
    });
    await manager.query(
      `${relaxedCommit ? `WITH relaxed AS MATERIALIZED (${relax}) ` : ''}UPDATE requests r SET projected_finish_at = v.pf, latest_finish_at = v.lf, slack_seconds = v.slack, at_risk = v.risk, bottleneck_request_id = v.bottleneck
       FROM (VALUES ${tuples.join(', ')}) AS v(id, pf, lf, slack, risk, bottleneck) WHERE r.id = v.id${relaxedCommit ? ' AND EXISTS (SELECT 1 FROM relaxed)' : ''}`,
      values,
    );
  }
}
