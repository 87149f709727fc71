import { randomUUID } from 'node:crypto';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client, type Connection, type Submittable } from 'pg';
import { serialize } from 'pg-protocol';
import { AppConfig } from '../common/app-config';
import { NIL_UUID } from '../common/uuid';
import { buildMimeMessage, type OutgoingMail } from './mime-message';
import { SmtpLane, SmtpReachability, smtpTarget } from './smtp-lane';
import type { Envelope } from './smtp-wire';

/** How many mails go out at once: each lane is one SMTP connection and one idle PostgreSQL connection. */
export const MAIL_LANES = 12;

/**
 * How long after a mail's answer a lane records it, unless its next mark (which implies it) is
 * written first: at once would cost a write per mail; waiting while the next mail's envelope is
 * answered (seconds, from a slow server) left an answered mail looking in doubt.
 */
const ANSWERED_WITHIN_MS = 50;

/**
 * An idle lane's SMTP connection says RSET this often: within our own socket timeout (10 s,
 * SmtpLane) and any server's idle timeout (smtp-server 60 s, Postfix 300 s), so a deadline after a
 * quiet spell finds its lane connected rather than waiting for a new connection and its greeting.
 * A closed lane is opened again as often (keepLanesAlive).
 */
const SMTP_KEEP_ALIVE_MS = 3_000;

/** Each lane connection's row in `mail_lanes` (its id), by connection. */
const laneRecords = new WeakMap<Client, string>();

/** An SMTP connection paired with a PostgreSQL connection kept idle for the "sent" mark. */
export interface MailLane {
  smtp: SmtpLane;
  /** Connected on first use; idle whenever the lane is free, so a query written to it goes out at once. */
  marker(): Promise<Client>;
  /**
   * Set while the server has answered the mail this lane marked last and `mail_lanes` does not say
   * so yet: the lane's next mark implies it (a lane sends one mail at a time), or this records it
   * ANSWERED_WITHIN_MS after the answer (MailTransport.answered). A worker that dies in between
   * leaves that mail in doubt (Reconciler).
   */
  answeredTimer?: NodeJS.Timeout;
  /** The record of an answer being written, which the lane's next mark waits for. */
  answering: Promise<void>;
}

@Injectable()
export class MailTransport implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly free: MailLane[] = [];
  private readonly waiting: ((lane: MailLane) => void)[] = [];
  /** Batches with claimed mail still to send: a lane that comes free joins one before anything else. */
  private readonly joinable = new Set<(lane: MailLane) => boolean>();
  private readonly markers: Client[] = [];
  private keepAliveTimer?: NodeJS.Timeout;
  private keepingAlive: Promise<void> | null = null;

  constructor(private readonly config: AppConfig) {
    const target = smtpTarget(config.smtpUrl, config.isProduction);
    const reachability = new SmtpReachability();
    for (let i = 0; i < MAIL_LANES; i++) {
      let marker: Promise<Client> | null = null;
      const connectMarker = async () => {
        const client = new Client({ connectionString: config.databaseUrl });
        client.on('error', () => (marker = null));
        await client.connect();
        // The lane's row, then the "sent" mark prepared, and the outbox's catalog entries loaded,
        // before the first mail: a backend meeting its first mail mid-burst spends its first
        // statements on that instead.
        const record = randomUUID();
        await client.query(
          `INSERT INTO mail_lanes (id, backend_pid, backend_start) SELECT $1, pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()`,
          [record],
        );
        laneRecords.set(client, record);
        await prepareMark(client);
        this.markers.push(client);
        return client;
      };
      this.free.push({
        smtp: new SmtpLane(target, reachability),
        marker: () => (marker ??= connectMarker().catch((error) => ((marker = null), Promise.reject(error)))),
        answering: Promise.resolve(),
      });
    }
  }

  /**
   * The lanes' PostgreSQL and SMTP connections are opened at start, not by the first mails of a
   * burst; one that fails is opened on use. Idle SMTP connections are then kept open.
   */
  onApplicationBootstrap(): void {
    for (const lane of this.free) {
      lane.marker().catch(() => undefined);
      lane.smtp.open().catch(() => undefined);
    }
    this.keepAliveTimer = setInterval(() => {
      this.keepingAlive ??= this.keepLanesAlive().finally(() => (this.keepingAlive = null));
    }, SMTP_KEEP_ALIVE_MS);
    this.keepAliveTimer.unref();
  }

  /**
   * Each free lane takes its turn out of the free list (one at a time: no mail waits for all of
   * them): an open one idle that long says RSET; a closed one (the server restarted, or dropped
   * it) is opened again, so the next mail need not wait for a greeting. The first that fails to
   * open ends the round: a server that is down sees one attempt per round from this worker.
   */
  private async keepLanesAlive(): Promise<void> {
    for (const lane of [...this.free]) {
      const at = this.free.indexOf(lane);
      if (at < 0 || !(lane.smtp.closed || lane.smtp.idleFor(SMTP_KEEP_ALIVE_MS))) continue;
      this.free.splice(at, 1);
      try {
        if (lane.smtp.closed) await lane.smtp.open();
        else await lane.smtp.keepAlive();
      } catch {
        return; // Not reachable now: mail on this lane opens a connection when it comes, the next round tries again.
      } finally {
        this.release(lane);
      }
    }
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

  /**
   * While a batch is being sent, every lane that comes free is offered to `join` first (it answers
   * whether it took the lane, and then gives it back itself): claimed mail, whose claim is aging,
   * goes before a job still waiting to claim. Returns the function that withdraws the offer.
   */
  offerFreedLanes(join: (lane: MailLane) => boolean): () => void {
    this.joinable.add(join);
    return () => this.joinable.delete(join);
  }

  release(lane: MailLane): void {
    for (const join of this.joinable) if (join(lane)) return;
    const next = this.waiting.shift();
    if (next) return next(lane);
    this.free.push(lane);
  }

  /**
   * The server has answered `mailId`, the mail this lane marked last, and its mark is committed:
   * the lane records the answer ANSWERED_WITHIN_MS later, busy or idle, unless its next mark
   * (marking) comes first.
   */
  answered(lane: MailLane, mailId: string): void {
    clearTimeout(lane.answeredTimer);
    lane.answeredTimer = setTimeout(() => (lane.answering = this.recordAnswered(lane, mailId)), ANSWERED_WITHIN_MS);
  }

  /** The lane's next mark is being written, in the same synchronous step as its end of data: it implies the answer to the mail before. */
  marking(lane: MailLane): void {
    clearTimeout(lane.answeredTimer);
  }

  /** Records that the lane's last mail was answered. Only for that mail: a record arriving after the next mark leaves the next mail's row alone. */
  private async recordAnswered(lane: MailLane, mailId: string): Promise<void> {
    try {
      const marker = await lane.marker();
      await marker.query({ name: ANSWERED_STATEMENT, text: ANSWERED_SQL, values: [laneRecords.get(marker), mailId] });
    } catch {
      // Left unrecorded: only a death of this worker would put the mail in doubt, settled by the reconciler.
    }
  }

  compose(mail: OutgoingMail): { envelope: Envelope; raw: Buffer } {
    return { envelope: { from: this.config.mailFrom, to: mail.to }, raw: buildMimeMessage(this.config.mailFrom, mail) };
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.keepAliveTimer);
    await this.keepingAlive;
    for (const lane of this.free) {
      clearTimeout(lane.answeredTimer);
      lane.smtp.close();
    }
    // Every answer is in: the lanes' rows go with them (and with them the answers still to record).
    await Promise.all(this.free.map((lane) => lane.answering));
    await Promise.all(this.markers.map((client) => client.query(`DELETE FROM mail_lanes WHERE id = $1`, [laneRecords.get(client)]).catch(() => undefined)));
    await Promise.all(this.markers.map((client) => client.end().catch(() => undefined)));
  }
}

const MARK_STATEMENT = 'handoff_mark_sent';
const LANE_MARK_STATEMENT = 'handoff_lane_marked';
const ANSWERED_STATEMENT = 'handoff_lane_answered';
const ANSWERED_SQL = `UPDATE mail_lanes SET answered = true WHERE id = $1 AND marked = $2`;

/**
 * Parses and plans the "sent" mark and the lane's record of it on a lane's connection, once, when
 * the connection opens. `status || ''` keeps the mark on the primary key: planned generically while
 * the outbox has no unsent mail (at worker start), a plain `status = 'sending'` chose the partial
 * index of unsent mail, led by next_attempt_at, which a burst then reads whole for every mark.
 */
async function prepareMark(marker: Client): Promise<void> {
  await marker.query({
    name: MARK_STATEMENT,
    text: `UPDATE mail_outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1 AND status || '' = 'sending'`,
    values: [NIL_UUID],
  });
  await marker.query({ name: LANE_MARK_STATEMENT, text: `UPDATE mail_lanes SET marked = $2, marked_at = now(), answered = false WHERE id = $1`, values: [NIL_UUID, null] });
  await marker.query({ name: ANSWERED_STATEMENT, text: ANSWERED_SQL, values: [NIL_UUID, NIL_UUID] });
}

/**
 * The "sent" mark of one mail: Bind and Execute of the mark and of the lane's record of it, and Sync, of the statements `prepareMark` prepared on
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

  /** With the mark, in the same transaction, the lane's row names this mail as its last, unanswered. */
  constructor(mailId: string, marker: Client) {
    this.bytes = Buffer.concat([
      serialize.bind({ statement: MARK_STATEMENT, values: [mailId] }),
      serialize.execute(),
      serialize.bind({ statement: LANE_MARK_STATEMENT, values: [laneRecords.get(marker) ?? NIL_UUID, mailId] }),
      serialize.execute(),
      serialize.sync(),
    ]);
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
