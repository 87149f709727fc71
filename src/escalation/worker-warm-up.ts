import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { NIL_UUID } from '../common/uuid';
import { MailTransport } from '../mail/mail-transport';
import { composeEscalationMail } from './escalation-mail';

/** Enough rounds for V8 to compile the loops below to machine code; about 70 ms on a slow core. */
const ROUNDS = 400;

/**
 * V8 compiles a function to fast machine code only after it has run for a while; before that,
 * the per-character loops of a mail (escaping, quoted-printable, header folding) run many times
 * slower. That is one of the costs a worker pays when its first mails come in a burst (it sends
 * 250–450 in the burst's first second against 1 000 arriving, later 1 000–1 450: docs/benchmarks.md),
 * and the one paid here instead: a worker composes and encodes a few hundred made-up escalation
 * mails when it starts; nothing is stored or sent.
 */
@Injectable()
export class WorkerWarmUp implements OnApplicationBootstrap {
  private readonly logger = new Logger('WorkerWarmUp');

  constructor(private readonly transport: MailTransport) {}

  onApplicationBootstrap(): void {
    const started = performance.now();
    const now = Date.now();
    for (let i = 0; i < ROUNDS; i++) {
      const mail = composeEscalationMail({
        requestId: NIL_UUID,
        title: `Warm-up bouquet “${i}” — roses & lilies`,
        priority: 'high',
        status: 'open',
        kind: i % 3 === 0 ? 'response_warning' : i % 3 === 1 ? 'resolution_breach' : `level-${i % 4}`,
        deadlineAt: now + (i % 2 ? 1 : -1) * i * 61_000,
        firedAt: now,
        deadlineLabel: 'warm-up',
        publicUrl: 'http://localhost',
        context: {
          providerName: 'Design',
          providerCode: 'DES',
          customerName: 'Sales',
          customerCode: 'SAL',
          timezone: 'Europe/Amsterdam',
          upstream: i % 2 ? [{ id: NIL_UUID, title: 'Order flowers', status: 'open' }] : [],
          downstream: [],
        },
      });
      this.transport.compose({ to: ['warm-up@handoff.invalid'], subject: mail.subject, text: mail.text, html: mail.html, headers: mail.headers, messageId: '<warm-up@handoff>' });
    }
    this.logger.debug(`mail composition warmed up in ${(performance.now() - started).toFixed(0)} ms`);
  }
}
