import { Injectable } from '@nestjs/common';
import type { AgreementTerms } from '../agreements/agreement-terms';
import type { BusinessCalendar } from '../business-time';
import { CalendarsRepository } from '../org/calendars.repository';
import { businessSecondsWorked, pausedBusinessSeconds, resolutionDeadline, toClockInstant, type PauseSpan } from './request-clocks';
import type { RequestPause } from './request-pause.entity';
import type { ServiceRequest } from './request.entity';

export interface Deadlines {
  respondBy: Date;
  resolveBy: Date;
  pausedSeconds: number;
}

/** Pauses as spans; with terms, only those the resolution clock counts (blocked ones only if the agreement pauses while blocked). */
export const spansOf = (pauses: readonly RequestPause[], terms?: Pick<AgreementTerms, 'pauseWhileBlocked'>): PauseSpan[] =>
  pauses
    .filter((p) => !terms || terms.pauseWhileBlocked || p.reason !== 'blocked')
    .map((p) => ({ startedAt: p.startedAt.getTime(), endedAt: p.endedAt ? p.endedAt.getTime() : null }));

/** Applies the pure clock arithmetic to a request's terms, in the calendar those terms name. */
@Injectable()
export class RequestClockService {
  constructor(private readonly calendars: CalendarsRepository) {}

  calendarFor(terms: Pick<AgreementTerms, 'calendarId' | 'timezone'>): Promise<BusinessCalendar> {
    return this.calendars.businessCalendar(terms.calendarId, terms.timezone);
  }

  /** respondBy, resolveBy and the finished pauses' business seconds, from the start and every pause. */
  deadlines(calendar: BusinessCalendar, terms: AgreementTerms, start: Date, pauses: readonly RequestPause[]): Deadlines {
    const startMs = toClockInstant(start);
    const spans = spansOf(pauses, terms);
    const finished = spans.filter((p) => p.endedAt !== null);
    return {
      respondBy: new Date(calendar.addBusinessSeconds(startMs, terms.responseTargetSeconds)),
      resolveBy: new Date(resolutionDeadline(calendar, startMs, terms.resolutionTargetSeconds, spans)),
      pausedSeconds: Math.round(pausedBusinessSeconds(calendar, finished, startMs)),
    };
  }

  /** Business seconds from the start to `end`, pauses left out: stored when a clock stops, for reports. */
  worked(calendar: BusinessCalendar, request: Pick<ServiceRequest, 'createdAt'>, end: Date, pauses: readonly RequestPause[]): number {
    return Math.round(businessSecondsWorked(calendar, toClockInstant(request.createdAt), toClockInstant(end), spansOf(pauses)));
  }

  /** When the resolution clock stopped, if a pause it counts is running now; null while it runs. */
  runningPauseStart(terms: Pick<AgreementTerms, 'pauseWhileBlocked'>, pauses: readonly RequestPause[]): Date | null {
    const running = spansOf(pauses, terms).filter((p) => p.endedAt === null);
    return running.length ? new Date(Math.min(...running.map((p) => p.startedAt))) : null;
  }

  runningPauseSeconds(calendar: BusinessCalendar, terms: Pick<AgreementTerms, 'pauseWhileBlocked'>, pauses: readonly RequestPause[], now: Date): number {
    const running = spansOf(pauses, terms).filter((p) => p.endedAt === null);
    return Math.round(pausedBusinessSeconds(calendar, running, toClockInstant(now)));
  }
}
