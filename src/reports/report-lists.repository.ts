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
