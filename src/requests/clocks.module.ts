import { Global, Module } from '@nestjs/common';
import { RequestClockService } from './request-clock.service';

/** Clock arithmetic on requests, needed by the request API and the escalation worker alike. */
@Global()
@Module({ providers: [RequestClockService], exports: [RequestClockService] })
export class ClocksModule {}
