import { Injectable } from '@nestjs/common';
import { RequestClockService } from './request-clock.service';
import type { RequestView } from './request.dto';
import type { ServiceRequest } from './request.entity';
import { RequestsRepository } from './requests.repository';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Builds the API's view of requests: stored clocks plus what the passing of time has changed. */
@Injectable()
export class RequestPresenter {
  constructor(
    private readonly requests: RequestsRepository,
    private readonly clocks: RequestClockService,
  ) {}

  async present(rows: ServiceRequest[], now: Date): Promise<RequestView[]> {
    const ids = rows.map((r) => r.id);
    const pausedIds = rows.filter((r) => r.pausedSince).map((r) => r.id);
    const [links, pauses] = await Promise.all([this.requests.dependenciesOf(ids), this.requests.pausesOf(pausedIds)]);
    const views: RequestView[] = [];
    for (const row of rows) {
      let pausedSeconds = row.pausedSeconds;
      if (row.pausedSince) {
        const calendar = await this.clocks.calendarFor(row.terms);
        pausedSeconds += this.clocks.runningPauseSeconds(calendar, row.terms, pauses.filter((p) => p.requestId === row.id), now);
      }
      views.push(this.view(row, now, pausedSeconds, links.filter((l) => l.requestId === row.id).map((l) => l.dependsOnId)));
    }
    return views;
  }

  async presentOne(row: ServiceRequest, now: Date): Promise<RequestView> {
    return (await this.present([row], now))[0];
  }

  /** A request just created inside a transaction: no pause is running, its links are known. */
  presentFresh(row: ServiceRequest, dependsOn: string[], now: Date): RequestView {
    return this.view(row, now, row.pausedSeconds, dependsOn);
  }

  private view(r: ServiceRequest, now: Date, pausedSeconds: number, dependsOn: string[]): RequestView {
    const responseClockEnd = r.respondedAt ?? r.cancelledAt ?? now;
    const resolutionClockEnd = r.resolvedAt ?? r.pausedSince ?? r.cancelledAt ?? now;
    return {
      id: r.id,
      serviceId: r.serviceId,
      title: r.title,
      description: r.description,
      priority: r.priority,
      status: r.status,
      version: r.version,
      providerDepartmentId: r.providerDepartmentId,
      customerDepartmentId: r.customerDepartmentId,
      requesterId: r.requesterId,
      assigneeId: r.assigneeId,
      createdAt: r.createdAt.toISOString(),
      respondBy: r.respondBy.toISOString(),
      resolveBy: r.resolveBy.toISOString(),
      respondedAt: iso(r.respondedAt),
      resolvedAt: iso(r.resolvedAt),
      closedAt: iso(r.closedAt),
      cancelledAt: iso(r.cancelledAt),
      pausedSeconds,
      paused: r.pausedSince !== null,
      breached: {
        response: r.breachedResponse || responseClockEnd.getTime() > r.respondBy.getTime(),
        resolution: r.breachedResolution || resolutionClockEnd.getTime() > r.resolveBy.getTime(),
      },
      escalationLevel: r.escalationLevel,
      neededBy: iso(r.neededBy),
      externalRef: r.externalRef,
      externalDueAt: iso(r.externalDueAt),
      dependsOn,
      agreement: {
        id: r.agreementId,
        version: r.agreementVersion,
        responseTarget: r.terms.responseTarget,
        resolutionTarget: r.terms.resolutionTarget,
        calendarId: r.terms.calendarId,
        timezone: r.terms.timezone,
        warnAtPercent: r.terms.warnAtPercent,
      },
      chain: {
        projectedFinishAt: iso(r.projectedFinishAt),
        latestFinishAt: iso(r.latestFinishAt),
        slackSeconds: r.slackSeconds,
        atRisk: r.atRisk,
        bottleneckRequestId: r.bottleneckRequestId,
      },
    };
  }
}
