import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from '../operations/metrics';
import { QueueName } from './queues';

/** Escalations fired, how late, mails sent/failed/pending and queue depths, on /metrics. */
@Injectable()
export class EscalationMetrics {
  readonly fired: Counter<'kind'>;
  readonly lateness: Histogram<'kind'>;
  readonly mailsSent: Counter;
  readonly mailsFailed: Counter<'reason'>;

  constructor(
    metrics: MetricsRegistry,
    @InjectDataSource() dataSource: DataSource,
    @InjectQueue(QueueName.Deadlines) deadlines: Queue,
    @InjectQueue(QueueName.Mail) mail: Queue,
  ) {
    const registers = [metrics.registry];
    this.fired = new Counter({ name: 'handoff_escalations_fired_total', help: 'Escalations fired, by kind', labelNames: ['kind'], registers });
    this.lateness = new Histogram({
      name: 'handoff_escalation_lateness_seconds',
      help: 'Seconds from a deadline to its escalation being recorded',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 30, 60, 300],
      registers,
    });
    this.mailsSent = new Counter({ name: 'handoff_mails_sent_total', help: 'Escalation mails accepted by SMTP', registers });
    this.mailsFailed = new Counter({ name: 'handoff_mails_failed_total', help: 'Escalation mails given up on (reason refused, retries_exhausted), and recipients refused while the rest took the mail (recipient_refused)', labelNames: ['reason'], registers });
    new Gauge({
      name: 'handoff_mails_pending',
      help: 'Escalation mails in the outbox not yet accepted by SMTP',
      registers,
      async collect() {
        const rows: { n: number }[] = await dataSource.query(`SELECT count(*)::int AS n FROM mail_outbox WHERE status IN ('pending', 'sending')`);
        this.set(rows[0].n);
      },
    });
    new Gauge({
      name: 'handoff_queue_jobs',
      help: 'Jobs in each queue by state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const queue of [deadlines, mail]) {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
          for (const [state, n] of Object.entries(counts)) this.set({ queue: queue.name, state }, n);
        }
      },
    });
  }
}
