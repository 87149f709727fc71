import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../common/app-config';
import { NIL_UUID } from '../common/nil-uuid';
import { buildMimeMessage, type OutgoingMail } from './mime-message';
import { SmtpLane, smtpTarget } from './smtp-lane';

/** How many mails go out at once: each lane is one SMTP connection and one idle PostgreSQL connection. */
export const MAIL_LANES = 12;

/** An SMTP connection paired with a PostgreSQL connection kept idle for the "sent" mark. */
export interface MailLane {
  smtp: SmtpLane;
  /** Connected on first use; idle whenever the lane is free, so a query written to it goes out at once. */
  marker(): Promise<Client>;
}

@Injectable()
export class MailTransport implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly free: MailLane[] = [];
  private readonly waiting: ((lane: MailLane) => void)[] = [];
  private readonly markers: Client[] = [];

  constructor(private readonly config: AppConfig) {
    const target = smtpTarget(config.smtpUrl, config.isProduction);
    for (let i = 0; i < MAIL_LANES; i++) {
      let marker: Promise<Client> | null = null;
      const connectMarker = async () => {
        const client = new Client({ connectionString: config.databaseUrl });
        client.on('error', () => (marker = null));
        await client.connect();
        // The "sent" mark prepared, and the outbox's catalog entries loaded, before the first mail:
        // a backend meeting its first mail mid-burst spends its first statements on that instead.
        await markSent(client, NIL_UUID);
        this.markers.push(client);
        return client;
      };
      this.free.push({
        smtp: new SmtpLane(target),
        marker: () => (marker ??= connectMarker().catch((error) => ((marker = null), Promise.reject(error)))),
      });
    }
  }

  /** The lanes' PostgreSQL connections are opened at start, not by the first mails of a burst; one that fails is retried on use. */
  onApplicationBootstrap(): void {
    for (const lane of this.free) lane.marker().catch(() => undefined);
  }

  /** Waits for a free lane, runs the work on it, and frees it again. */
  async withLane<T>(work: (lane: MailLane) => Promise<T>): Promise<T> {
    const lane = this.free.pop() ?? (await new Promise<MailLane>((resolve) => this.waiting.push(resolve)));
    try {
      return await work(lane);
    } finally {
      this.release(lane);
    }
  }

  /** Up to `count` lanes that are free right now, without waiting; each must be given back with release. */
  takeFree(count: number): MailLane[] {
    return count > 0 ? this.free.splice(Math.max(0, this.free.length - count)) : [];
  }

  release(lane: MailLane): void {
    const next = this.waiting.shift();
    if (next) next(lane);
    else this.free.push(lane);
  }

  compose(mail: OutgoingMail): { envelope: { from: string; to: string[] }; raw: Buffer } {
    return { envelope: { from: this.config.mailFrom, to: mail.to }, raw: buildMimeMessage(this.config.mailFrom, mail) };
  }

  async onApplicationShutdown(): Promise<void> {
    for (const lane of this.free) lane.smtp.close();
    await Promise.all(this.markers.map((client) => client.end().catch(() => undefined)));
  }
}

/**
 * Written synchronously to an idle connection in one socket write: the first time Parse, Bind,
 * Execute and Sync, afterwards Bind, Execute and Sync of the statement prepared on that connection
 * (PostgreSQL then neither parses nor plans it). Whatever reaches the kernel, Sync included, is run
 * and committed even if this process dies the next instant.
 */
export function markSent(marker: Client, mailId: string): Promise<unknown> {
  return marker.query({
    name: 'handoff_mark_sent',
    text: `UPDATE mail_outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1 AND status = 'sending'`,
    values: [mailId],
  });
}

/** SMTP 5xx is a permanent refusal: retrying will not help. */
export function isPermanentSmtpRefusal(error: unknown): boolean {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}
