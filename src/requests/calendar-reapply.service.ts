import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { BusinessCalendar } from '../business-time';
import { ChainService } from '../chains/chain.service';
import { DeadlineScheduler, type ScheduledDeadline } from '../escalation/deadline-scheduler';
import { toClockInstant } from './request-clocks';
import { RequestClockService } from './request-clock.service';
import { isFinished } from './request-lifecycle';
import type { ServiceRequest } from './request.entity';
import { RequestsRepository, type NewEvent } from './requests.repository';

export interface CalendarReapplied {
  /** Requests whose deadlines moved, as they were before. */
  moved: ServiceRequest[];
  timers: (ScheduledDeadline | null)[];
}

const BATCH = 500;

/**
 * A calendar edit reaches the clocks still running in it at once: each open request counted in the
 * calendar gets its deadlines again from its own start, pauses and terms, as a priority change does,
 * with a `deadlines_moved` event and new timers. A stopped clock (responded, resolved) keeps its
 * deadline and verdict. Runs inside the transaction that saves the calendar, so a calendar in which
 * some open request's deadline cannot be computed is never saved.
 */
@Injectable()
export class CalendarReapplyService {
  constructor(
    private readonly requests: RequestsRepository,
    private readonly clocks: RequestClockService,
    private readonly deadlines: DeadlineScheduler,
    private readonly chains: ChainService,
  ) {}

  async reapply(manager: EntityManager, calendarId: string, calendar: BusinessCalendar, actorId: string, now: Date): Promise<CalendarReapplied> {
    const outcome: CalendarReapplied = { moved: [], timers: [] };
    const at = new Date(toClockInstant(now));
    for (let after: string | null = null; ; ) {
      const ids = await this.requests.runningIdsInCalendar(manager, calendarId, after, BATCH);
      for (const id of ids) {
        const request = (await this.requests.findForUpdate(manager, id))!;
        // Locked now: it may have been resolved or re-prioritised onto other terms since the id was read.
        if (isFinished(request.status) || request.terms.calendarId !== calendarId) continue;
        const pauses = await this.requests.pausesOf([id], manager);
        const next = this.clocks.deadlines(calendar, request.terms, request.createdAt, pauses);
        const respondBy = request.respondedAt ? request.respondBy : next.respondBy;
        const resolveBy = next.resolveBy;
        if (respondBy.getTime() === request.respondBy.getTime() && resolveBy.getTime() === request.resolveBy.getTime()) continue;
        await this.requests.updateIfVersion(manager, id, request.version, { respondBy, resolveBy, pausedSeconds: next.pausedSeconds });
        const event: NewEvent = {
          requestId: id,
          actorId,
          type: 'deadlines_moved',
          at,
          before: { calendarId, respondBy: request.respondBy.toISOString(), resolveBy: request.resolveBy.toISOString() },
          after: { calendarId, respondBy: respondBy.toISOString(), resolveBy: resolveBy.toISOString() },
        };
        await this.requests.appendEvents(manager, [event]);
        outcome.timers.push(await this.deadlines.replan(manager, id, calendar));
        outcome.moved.push(request);
      }
      if (ids.length < BATCH) return outcome;
      after = ids[ids.length - 1];
    }
  }

  /** After commit: the new timers into Redis, chains through the moved requests recomputed. */
  async afterCommit(outcome: CalendarReapplied): Promise<void> {
    await this.deadlines.enqueue(outcome.timers);
    if (outcome.moved.length) await this.chains.afterChange(outcome.moved);
  }
}
