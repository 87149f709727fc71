import { DynamicModule, Module } from '@nestjs/common';
import { ChainService } from '../chains/chain.service';
import { ChainsRepository } from '../chains/chains.repository';
import { MailProcessor } from '../mail/mail.processor';
import { MailQueue } from '../mail/mail-queue';
import { MailSender } from '../mail/mail-sender';
import { MailTransport } from '../mail/mail-transport';
import { DeadlineProcessor } from './deadline.processor';
import { DeadlineScheduler } from './deadline-scheduler';
import { DeadlineWaker } from './deadline-waker';
import { EscalationMetrics } from './escalation-metrics';
import { EscalationService } from './escalation.service';
import { EscalationsRepository } from './escalations.repository';
import { QueuesModule } from './queues.module';
import { Reconciler } from './reconciler';
import { WorkerWarmUp } from './worker-warm-up';

/** Timers, escalations, chains and their mail. The API role only schedules; worker roles also consume and reconcile. */
@Module({})
export class EscalationModule {
  static register(options: { worker: boolean }): DynamicModule {
    const shared = [EscalationsRepository, DeadlineScheduler, EscalationService, EscalationMetrics, MailQueue, ChainsRepository, ChainService];
    const worker = options.worker ? [MailTransport, MailSender, DeadlineProcessor, DeadlineWaker, MailProcessor, Reconciler, WorkerWarmUp] : [];
    return {
      module: EscalationModule,
      global: true,
      imports: [QueuesModule],
      providers: [...shared, ...worker],
      exports: [DeadlineScheduler, EscalationService, MailQueue, ChainsRepository, ChainService, ...(options.worker ? [Reconciler] : [])],
    };
  }
}
