import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client, type Connection, type Submittable } from 'pg';
import { serialize } from 'pg-protocol';
import { AppConfig } from '../common/app-config';
import { NIL_UUID } from '../common/uuid';
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
        await prepareMark(client);
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

const MARK_STATEMENT = 'handoff_mark_sent';

/** Parses and plans the "sent" mark on a lane's connection, once, when the connection opens. */
function prepareMark(marker: Client): Promise<unknown> {
  return marker.query({
    name: MARK_STATEMENT,
    text: `UPDATE mail_outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1 AND status = 'sending'`,
    values: [NIL_UUID],
  });
}

/**
 * The "sent" mark of one mail: Bind, Execute and Sync of the statement `prepareMark` prepared on
 * the lane's connection, as bytes built before the message's end of data is written. At the commit
 * point `writeTo` hands them to the idle connection in one socket write, with none of pg's
 * per-query work in between: the window in which a killed worker repeats a mail (docs/escalation.md)
 * is the end-of-data write and this one call. Whatever reaches the kernel, Sync included, is run
 * and committed even if this process dies the next instant.
 */
export class SentMark implements Submittable {
  private readonly bytes: Buffer;
  private error: Error | null = null;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  private written: Promise<void> | null = null;

  constructor(mailId: string) {
    this.bytes = Buffer.concat([serialize.bind({ statement: MARK_STATEMENT, values: [mailId] }), serialize.execute(), serialize.sync()]);
  }

  /** Queues the mark on the connection (written at once when it is idle, as a lane's is); resolves when PostgreSQL has committed it. */
  writeTo(marker: Client): Promise<void> {
    if (!this.written) {
      this.written = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
      // Awaited once the SMTP server has answered; a failure arriving before that is not unhandled.
      this.written.catch(() => undefined);
      marker.query(this);
    }
    return this.written;
  }

  /** pg: the connection is ours. */
  submit(connection: Connection): void {
    connection.stream.write(this.bytes);
  }

  /** pg: a server error (the statement fails; ReadyForQuery follows) or a lost connection (nothing follows). */
  handleError(error: Error): void {
    if (this.error) return;
    this.error = error;
    this.settle.reject(error);
  }

  handleReadyForQuery(): void {
    if (!this.error) this.settle.resolve();
  }

  // The other answers pg passes to the query in flight; an UPDATE without RETURNING sends none of them but CommandComplete.
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/** SMTP 5xx is a permanent refusal: retrying will not help. */
export function isPermanentSmtpRefusal(error: unknown): boolean {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}
