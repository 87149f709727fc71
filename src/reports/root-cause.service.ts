import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Actor } from '../identity/actor';
import type { RootCauseQuery, RootCauseView } from './report.dto';
import { slaWindow } from './report-window';
import { rootCauseRows } from './root-cause';
import { RootCauseRepository } from './root-cause.repository';
import { SlaReportRepository } from './sla-report.repository';
import { assertWindow, readWindowEnds, reportScopeOf } from './sla-report.service';

/** Which hand-off breaks most often: late requests charged to the department whose request held them up. */
@Injectable()
export class RootCauseService {
  constructor(
    private readonly rootCauses: RootCauseRepository,
    private readonly reports: SlaReportRepository,
    private readonly clock: Clock,
  ) {}

  async report(actor: Actor, query: RootCauseQuery): Promise<RootCauseView> {
    const now = this.clock.now();
    const ends = readWindowEnds(query, query.timezone ?? 'UTC');
    const window = slaWindow(ends.from, ends.to, now.getTime());
    assertWindow(window);
    const incidents = await this.rootCauses.incidents(new Date(window.from), new Date(window.to), now);
    const [requests, labels] = await Promise.all([this.rootCauses.upstreamOf(incidents.map((i) => i.requestId), now), this.reports.labels()]);
    const scope = reportScopeOf(actor);
    const department = (id: string) => {
      const d = labels.departments.get(id);
      return { id, code: d?.code ?? '?', name: d?.name ?? 'unknown' };
    };
    const rows = rootCauseRows(incidents, requests, now.getTime())
      // A head sees the hand-offs their department is on either end of.
      .filter((r) => !scope || r.causedBy === scope.departmentId || r.delayed === scope.departmentId);
    return {
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      asOf: now.toISOString(),
      incidents: rows.reduce((sum, r) => sum + r.incidents, 0),
      rows: rows.map((r) => ({
        causedBy: department(r.causedBy),
        delayed: department(r.delayed),
        ownDelay: r.causedBy === r.delayed,
        incidents: r.incidents,
        lateRequests: r.lateRequests,
        lateExternalPromises: r.lateExternalPromises,
        chargedSeconds: r.chargedSeconds,
        // Examples only of requests the reader may open.
        exampleRequestIds: scope && r.delayed !== scope.departmentId ? [] : r.exampleRequestIds,
      })),
    };
  }
}
