import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ChainRequest, Incident } from './root-cause';

interface IncidentRow {
  id: string;
  late_on_resolution: boolean;
  late_on_promise: boolean;
}

interface ChainRow {
  id: string;
  provider_department_id: string;
  created_at: Date;
  finished_at: Date | null;
  blocked: { blockerId: string; start: string; end: string | null }[] | null;
  depends_on: string[] | null;
}

/** Late requests of a window, and everything upstream of them that their blocked time may be charged to. */
@Injectable()
export class RootCauseRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Requests created in [from, to) that are late: their resolution breached (as the SLA report
   * counts it), or finished (or still open) after the promise made to the external customer.
   */
  async incidents(from: Date, to: Date, now: Date): Promise<Incident[]> {
    const rows: IncidentRow[] = await this.dataSource.query(
      `SELECT x.id, x.late_on_resolution, x.late_on_promise FROM (
         SELECT r.id,
           report_resolution_outcome(r.resolved_at, r.resolve_by, r.breached_resolution, r.cancelled_at) = 2 OR coalesce(o.resolve_due < $3, false) AS late_on_resolution,
           r.external_due_at IS NOT NULL AND r.cancelled_at IS NULL AND coalesce(r.resolved_at, $3) > r.external_due_at AS late_on_promise
         FROM requests r LEFT JOIN report_open_requests o ON o.request_id = r.id
         WHERE r.created_at >= $1 AND r.created_at < $2
       ) x
       WHERE x.late_on_resolution OR x.late_on_promise`,
      [from, to, now],
    );
    return rows.map((r) => ({ requestId: r.id, lateOnResolution: r.late_on_resolution, lateOnPromise: r.late_on_promise }));
  }

  /** The requests and every request upstream of them (by blocked pause or dependency), with their blocked pauses and links. */
  async upstreamOf(requestIds: string[], now: Date): Promise<Map<string, ChainRequest>> {
    if (requestIds.length === 0) return new Map();
    const rows: ChainRow[] = await this.dataSource.query(
      `WITH RECURSIVE upstream(id) AS (
         SELECT unnest($1::uuid[])
         UNION
         SELECT x.blocker FROM upstream u
         CROSS JOIN LATERAL (
           SELECT p.blocking_request_id AS blocker FROM request_pauses p
           WHERE p.request_id = u.id AND p.reason = 'blocked' AND p.blocking_request_id IS NOT NULL
           UNION ALL
           SELECT d.depends_on_id FROM request_dependencies d WHERE d.request_id = u.id
         ) x
       )
       SELECT r.id, r.provider_department_id, r.created_at, coalesce(r.resolved_at, r.cancelled_at) AS finished_at,
         (SELECT json_agg(json_build_object('blockerId', p.blocking_request_id, 'start', p.started_at, 'end', p.ended_at) ORDER BY p.started_at)
            FROM request_pauses p WHERE p.request_id = r.id AND p.reason = 'blocked' AND p.blocking_request_id IS NOT NULL) AS blocked,
         (SELECT array_agg(d.depends_on_id::text) FROM request_dependencies d WHERE d.request_id = r.id) AS depends_on
       FROM requests r WHERE r.id IN (SELECT id FROM upstream)`,
      [requestIds],
    );
    const nowMs = now.getTime();
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          providerDepartmentId: r.provider_department_id,
          createdAt: r.created_at.getTime(),
          finishedAt: r.finished_at ? r.finished_at.getTime() : null,
          blocked: (r.blocked ?? []).map((p) => ({ blockerId: p.blockerId, start: Date.parse(p.start), end: p.end ? Date.parse(p.end) : nowMs })),
          dependsOn: r.depends_on ?? [],
        },
      ]),
    );
  }
}
