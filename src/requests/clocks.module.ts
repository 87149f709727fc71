import { Global, Module } from '@nestjs/common';
import { CalendarReapplyService } from './calendar-reapply.service';
import { RequestClockService } from './request-clock.service';

/** Clock arithmetic on requests, needed by the request API, the calendars' edits and the escalation worker alike. */
@Global()
@Module({ providers: [RequestClockService, CalendarReapplyService], exports: [RequestClockService, CalendarReapplyService] })
export class ClocksModule {}
