import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ReportScope } from './sla-report.repository';

export interface AtRiskRow {
  id: string;
  title: string;
  status: string;
  priority: string;
  provider_department_id: string;
  customer_department_id: string;
  service_id: string;
  slack_seconds: number;
  at_risk: boolean;
  at_risk_since: Date | null;
  projected_finish_at: Date | null;
  latest_finish_at: Date | null;
  resolve_by: Date;
  external_ref: string | null;
  external_due_at: Date | null;
  bottleneck_request_id: string | null;
}

/** A chain as the at-risk list shows it: its end (an open request nothing open waits on) and the open requests upstream of it. */
export interface AtRiskChainRow extends AtRiskRow {
  needed_by: Date | null;
  open_requests: number;
  tightest_id: string;
  tightest_bottleneck_id: string | null;
}

export interface EscalationLogRow {
  id: string;
  request_id: string;
  title: string;
  kind: string;
  due_at: Date;
  fired_at: Date;
  recipients: string[];
  provider_department_id: string;
  customer_department_id: string;
}

/** The dashboard's lists: open requests by chain slack, and the escalations fired last. */
@Injectable()
export class ReportListsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Open requests with a chain slack, least slack first (the partial index requests_open_slack_idx). */
  atRisk(scope: ReportScope, onlyAtRisk: boolean, after: { slackSeconds: number; id: string } | null, limit: number): Promise<AtRiskRow[]> {
    const params: unknown[] = [limit];
    const where = [`r.slack_seconds IS NOT NULL`, `r.status NOT IN ('resolved', 'closed', 'cancelled')`];
    if (onlyAtRisk) where.push('r.at_risk');
    if (scope) {
      params.push(scope.departmentId);
      where.push(`(r.provider_department_id = $${params.length} OR r.customer_department_id = $${params.length})`);
    }
    if (after) {
      params.push(after.slackSeconds, after.id);
      where.push(`(r.slack_seconds, r.id) > ($${params.length - 1}, $${params.length}::uuid)`);
    }
    return this.dataSource.query(
      `SELECT r.id, r.title, r.status, r.priority, r.provider_department_id, r.customer_department_id, r.service_id, r.slack_seconds,
         r.at_risk, r.at_risk_since, r.projected_finish_at, r.latest_finish_at, r.resolve_by, r.external_ref, r.external_due_at,
         r.bottleneck_request_id
       FROM requests r
       WHERE ${where.join(' AND ')}
       ORDER BY r.slack_seconds, r.id
       LIMIT $1`,
      params,
    );
  }

  /**
   * Chains by their least slack: one row per end (an open request with a chain slack that no open
   * request depends on) that has open requests upstream or carries a promise itself — the ends
   * ChainService judges (docs/chains.md). Slack is the least of the open requests upstream of the
   * end and the end's own; `at_risk` is the end's: an at-risk episode is open for it. A head sees a
   * chain when their department is party to any of its open requests, as for GET /chains/:id.
   */
  atRiskChains(scope: ReportScope, onlyAtRisk: boolean, after: { slackSeconds: number; id: string } | null, limit: number): Promise<AtRiskChainRow[]> {
    const params: unknown[] = [limit];
    const endWhere = [
      `e.slack_seconds IS NOT NULL`,
      `e.status NOT IN ('resolved', 'closed', 'cancelled')`,
      `NOT EXISTS (SELECT 1 FROM request_dependencies d JOIN requests o ON o.id = d.request_id
                    WHERE d.depends_on_id = e.id AND o.status NOT IN ('resolved', 'closed', 'cancelled'))`,
    ];
    if (onlyAtRisk) endWhere.push('e.at_risk_since IS NOT NULL');
    let visible = 'true';
    if (scope) {
      params.push(scope.departmentId);
      visible = `bool_or(r.provider_department_id = $${params.length} OR r.customer_department_id = $${params.length})`;
    }
    const where = [`(c.open_requests > 1 OR e.external_due_at IS NOT NULL OR e.needed_by IS NOT NULL)`, 'c.visible'];
    if (after) {
      params.push(after.slackSeconds, after.id);
      where.push(`(c.slack_seconds, c.end_id) > ($${params.length - 1}, $${params.length}::uuid)`);
    }
    // The recursive walk's row estimates are far off (millions), which makes PostgreSQL compile the
    // plan with JIT: a second of compiling for a query that runs in a fraction of that.
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL jit = off');
      return manager.query(
        `WITH RECURSIVE ends AS (
           SELECT e.id FROM requests e WHERE ${endWhere.join(' AND ')}
         ), upstream(end_id, id) AS (
           SELECT id, id FROM ends
           UNION
           SELECT u.end_id, d.depends_on_id FROM upstream u JOIN request_dependencies d ON d.request_id = u.id
             -- A finished request no longer holds up the end: what it waited on is not the end's chain.
             JOIN requests n ON n.id = d.depends_on_id AND n.status NOT IN ('resolved', 'closed', 'cancelled')
         ), chains AS (
           SELECT u.end_id, count(*)::int AS open_requests, min(r.slack_seconds)::int AS slack_seconds,
                  (array_agg(r.id ORDER BY r.slack_seconds, r.id))[1] AS tightest_id,
                  (array_agg(r.bottleneck_request_id ORDER BY r.slack_seconds, r.id))[1] AS tightest_bottleneck_id,
                  ${visible} AS visible
             FROM upstream u JOIN requests r ON r.id = u.id
            WHERE r.slack_seconds IS NOT NULL AND r.status NOT IN ('resolved', 'closed', 'cancelled')
            GROUP BY u.end_id
         )
         SELECT e.id, e.title, e.status, e.priority, e.provider_department_id, e.customer_department_id, e.service_id, c.slack_seconds,
                e.at_risk_since IS NOT NULL AS at_risk, e.at_risk_since, e.projected_finish_at, e.latest_finish_at, e.resolve_by,
                e.external_ref, e.external_due_at, e.needed_by, e.bottleneck_request_id, c.open_requests, c.tightest_id, c.tightest_bottleneck_id
           FROM chains c JOIN requests e ON e.id = c.end_id
          WHERE ${where.join(' AND ')}
          ORDER BY c.slack_seconds, c.end_id
          LIMIT $1`,
        params,
      );
    });
  }

  /**
   * Escalations fired before `before` (or ever) and after the cursor's (firedAt, id) in the order,
   * newest first. fired_at is always written from a JavaScript Date, so the cursor's milliseconds
   * are the whole value.
   */
  escalations(scope: ReportScope, before: Date | null, after: { firedAt: Date; id: string } | null, limit: number): Promise<EscalationLogRow[]> {
    const params: unknown[] = [limit];
    const where = ['true'];
    if (before) {
      params.push(before);
      where.push(`e.fired_at < $${params.length}`);
    }
    if (after) {
      params.push(after.firedAt, after.id);
      where.push(`(e.fired_at, e.id) < ($${params.length - 1}, $${params.length}::uuid)`);
    }
    if (scope) {
      params.push(scope.departmentId);
      where.push(`(r.provider_department_id = $${params.length} OR r.customer_department_id = $${params.length})`);
    }
    return this.dataSource.query(
      `SELECT e.id, e.request_id, r.title, e.kind, e.due_at, e.fired_at, e.recipients, r.provider_department_id, r.customer_department_id
       FROM escalations e JOIN requests r ON r.id = e.request_id
       WHERE ${where.join(' AND ')}
       ORDER BY e.fired_at DESC, e.id DESC
       LIMIT $1`,
      params,
    );
  }
}
