import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Client } from 'pg';
import { AppConfig } from '../common/app-config';
import { isUuid } from '../common/uuid';
import { ThrottledWarning } from '../common/throttled-warning';
import { EscalationMetrics } from '../escalation/escalation-metrics';
import { claimAbandoned, SEND_CLAIMED_WITHIN_SECONDS, STALE_CLAIM_SECONDS } from './claims';
import { MAILS_PER_JOB, MailQueue } from './mail-queue';
import { isPermanentSmtpRefusal, MailTransport, SentMark, type MailLane } from './mail-transport';
import type { OutboxMail } from './outbox-mail.entity';
import type { RefusedRecipient, Submission } from './smtp-lane';

/** Besides its own, a mail job takes this many other due mails (sent on its lane and idle ones). */
const BATCH = MAILS_PER_JOB - 1;

const DEFERRED_LOG_INTERVAL_MS = 10_000;

const CLAIM_STATEMENT = 'handoff_claim_mail';

/** What a mail job did: mails sent, put back for a later attempt, and failed for good. */
export interface SendOutcome {
  sent: number;
  retrying: number;
  failed: number;
}

/** How the SMTP server answered a mail (SmtpLane.sendEach). */
type SmtpOutcome = Parameters<Submission['settle']>[0];

type ClaimedMail = Pick<OutboxMail, 'id' | 'recipients' | 'subject' | 'textBody' | 'htmlBody' | 'headers' | 'escalationId' | 'attempts' | 'createdAt' | 'claimedBy'>;

/**
 * Sends outbox mail. A job claims its own mail and up to 24 others that are due (pending →
 * sending, rows other senders hold skipped) and sends them on its lane and on whichever other
 * lanes are idle at that moment, each lane one mail after another, pipelined where the server
 * allows (SmtpLane.sendEach: a mail's end of data and the next one's envelope in one write). The
 * instant a mail's end of data is written to the SMTP socket, its "sent" mark, built beforehand,
 * is written to the lane's idle PostgreSQL connection in the same synchronous step, in one socket
 * write: a worker killed after both writes leaves a delivered mail and a committed mark; killed
 * before them, an undelivered mail and an abandoned claim (claims.ts) another worker takes over. Only a kill between the two writes (about 50 µs per mail,
 * measured in docs/escalation.md) can repeat a mail. If the server then refuses, the mark is taken
 * back: a 5xx fails the mail for good, anything else schedules a retry in PostgreSQL with
 * capped exponential backoff, until MAIL_GIVE_UP_AFTER_S after the mail was written.
 */
@Injectable()
export class MailSender implements OnModuleDestroy {
  private readonly logger = new Logger('MailSender');
  /** Set when shutdown begins: a job sends what it has claimed and claims no more. */
  private stopping = false;
  /** Temporary failures: at most one warning per DEFERRED_LOG_INTERVAL_MS while mail is being put off (SMTP down, greylisting). */
  private readonly deferred = new ThrottledWarning(
    this.logger,
    DEFERRED_LOG_INTERVAL_MS,
    (count, lastError) => `mail not delivered yet: ${count} attempt(s) failed for now since the last such line, each retried with backoff; last error: ${lastError}`,
  );

  constructor(
    private readonly transport: MailTransport,
    private readonly metrics: EscalationMetrics,
    private readonly mailQueue: MailQueue,
    private readonly config: AppConfig,
  ) {}

  send(mailId: string): Promise<SendOutcome> {
    if (!isUuid(mailId)) return Promise.resolve({ sent: 0, retrying: 0, failed: 0 });
    // The lane first, then the claim: a claim must not age while it waits for a connection.
    return this.transport.withLane(async (lane) => {
      // The lane's own connection claims and records too: mail never queues behind the shared pool.
      const marker = await lane.marker();
      const outcome: SendOutcome = { sent: 0, retrying: 0, failed: 0 };
      const retries = new Map<string, number>();
      // A full claim means more may be due: the job claims again until a claim comes back short, so
      // no due mail is left waiting for a job of its own (or for the reconciler) while lanes are busy
      // with jobs that found nothing. The job's own mail is asked for in the first claim only.
      for (let own: string | null = mailId; !this.stopping; own = null) {
        const mails = await this.claim(marker, own);
        const sendBy = Date.now() + SEND_CLAIMED_WITHIN_SECONDS * 1000;
        const full = mails.length >= MAILS_PER_JOB;
        await this.sendAll(lane, marker, mails, sendBy, outcome, retries);
        if (!full) break;
      }
      // Each retry gets its own job at its next attempt (the reconciler would find it too).
      if (retries.size) await this.mailQueue.enqueue([...retries.keys()], retries);
      return outcome;
    });
  }

  /** Stop claiming more once shutdown begins; what is claimed is sent first (SIGTERM drains). */
  onModuleDestroy(): void {
    this.stopping = true;
  }

  private async sendAll(lane: MailLane, marker: Client, mails: ClaimedMail[], sendBy: number, outcome: SendOutcome, retries: Map<string, number>): Promise<void> {
    // The batch is shared with the lanes that are idle right now, and with each lane that comes free
    // while it lasts, so a mail claimed last does not wait for all the others on one lane (behind a
    // slow SMTP server, seconds) while other lanes stand still.
    const helpers = this.transport.takeFree(mails.length - 1);
    const drain = async (on: MailLane, connection: Client | null) => {
      const onMarker = connection ?? (await on.marker());
      const handled: Promise<void>[] = [];
      // Everything the lane's connection was given so far: a mail's end of data waits for it, so its
      // mark is written to an idle connection at once (SentMark), not queued behind another query.
      // Once any of it fails (the connection lost), the lane sends nothing more: a mail sent without
      // its mark would be sent again by whoever takes the claim over.
      let previous: Promise<unknown> = Promise.resolve();
      let broken = false;
      const follow = (work: Promise<unknown>) => {
        previous = work;
        work.catch(() => (broken = true));
      };
      const count = (mail: ClaimedMail) => (result: 'sent' | 'failed' | number) => {
        if (typeof result === 'number') retries.set(mail.id, result);
        outcome[result === 'sent' ? 'sent' : result === 'failed' ? 'failed' : 'retrying']++;
      };
      await on.smtp.sendEach(() => {
        for (let mail = broken ? undefined : mails.shift(); mail; mail = broken ? undefined : mails.shift()) {
          if (Date.now() > sendBy) {
            const putBack = previous.then(() => this.putBack(onMarker, mail));
            follow(putBack);
            handled.push(putBack.then(count(mail)));
            continue;
          }
          const { submission, done } = this.submission(on, onMarker, mail, previous);
          follow(done);
          handled.push(done.then(count(mail)));
          return submission;
        }
        return null;
      });
      const failure = (await Promise.allSettled(handled)).find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure) throw failure.reason;
    };
    const joined: Promise<void>[] = [];
    const withdraw = this.transport.offerFreedLanes((freed) => {
      if (mails.length === 0) return false;
      joined.push(drain(freed, null).finally(() => this.transport.release(freed)));
      return true;
    });
    // Every lane taken at the start finishes before any is given back (a lane that joined later
    // goes when its part is done); then the first failure, if any, fails the job (its unsent
    // claims are taken over once stale).
    let settled: PromiseSettledResult<void>[];
    try {
      settled = await Promise.allSettled([drain(lane, marker), ...helpers.map((helper) => drain(helper, null))]);
    } finally {
      withdraw();
    }
    settled.push(...(await Promise.allSettled(joined)));
    for (const helper of helpers) this.transport.release(helper);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** `own`: the job's own mail, taken even if a dead sender's stale claim holds it; null: only other due mail. */
  private async claim(marker: Client, own: string | null): Promise<ClaimedMail[]> {
    // The job's own mail and the others as one list of ids read through the primary key: an OR of
    // the two selectors made PostgreSQL read the whole outbox on every claim. Every row is locked
    // with SKIP LOCKED before the UPDATE touches it, the own mail too: a row another claim holds is
    // that claim's to send. (Waiting for it instead queued the first claims of a burst behind each
    // other, each holding the 24 rows the next one waited for.) Prepared once per lane connection:
    // planning it each time took 1–2 ms of a claim's 2–3 ms on an idle machine. `status || ''`
    // keeps the outer rows on the primary key: a plan made while the outbox is empty chose the
    // partial index of unsent mail, which a burst's backlog makes long (the mark's trick, MailTransport).
    const { rows } = await marker.query<ClaimedMail>({
      name: CLAIM_STATEMENT,
      text: `UPDATE mail_outbox m SET status = 'sending', claimed_at = now(), claimed_by = pg_backend_pid(), attempts = m.attempts + 1
        WHERE m.id = ANY (ARRAY(SELECT id FROM mail_outbox
                                 WHERE status = 'pending' AND next_attempt_at <= now() AND id IS DISTINCT FROM $1
                                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                          || ARRAY(SELECT id FROM mail_outbox WHERE id = $1 FOR UPDATE SKIP LOCKED))
          AND (m.status || '' = 'pending' OR (m.id = $1 AND m.status || '' = 'sending' AND ${claimAbandoned('$2')}))
        RETURNING m.id, m.recipients, m.subject, m.text_body AS "textBody", m.html_body AS "htmlBody", m.headers,
                  m.escalation_id AS "escalationId", m.attempts, m.created_at AS "createdAt", m.claimed_by AS "claimedBy"`,
      values: [own, STALE_CLAIM_SECONDS, own ? BATCH : MAILS_PER_JOB],
    });
    return rows;
  }

  /**
   * One mail for its lane's sendEach, and `done`: 'sent', 'failed', or the instant of the next
   * attempt, once the server has answered and PostgreSQL recorded it. Its "sent" mark is built
   * here and written at the commit point; `previous` (the lane connection's work so far) is awaited
   * before the end of data is written, so the mark goes to an idle connection.
   */
  private submission(lane: MailLane, marker: Client, mail: ClaimedMail, previous: Promise<unknown>): { submission: Submission; done: Promise<'sent' | 'failed' | number> } {
    const { envelope, raw } = this.transport.compose({
      to: mail.recipients,
      subject: mail.subject,
      text: mail.textBody,
      html: mail.htmlBody,
      headers: mail.headers,
      messageId: `<escalation-${mail.escalationId}@handoff>`,
    });
    const mark = new SentMark(mail.id, marker);
    let marking: Promise<void> | null = null;
    let answered!: (outcome: SmtpOutcome) => void;
    const answer = new Promise<SmtpOutcome>((resolve) => (answered = resolve));
    const submission: Submission = {
      envelope,
      raw,
      // The mails before it done (their marks committed), and the record of the last one's answer, if being written.
      beforeData: async () => {
        await previous;
        await lane.answering;
      },
      atCommitPoint: () => {
        marking = mark.writeTo(marker);
        this.transport.marking(lane);
      },
      settle: (outcome) => answered(outcome),
    };
    const done = (async (): Promise<'sent' | 'failed' | number> => {
      const outcome = await answer;
      // One query at a time on the lane's connection, in the order of the mails.
      await previous;
      if ('error' in outcome) {
        if (marking) await (marking as Promise<void>).catch(() => undefined);
        const { smtpError, pastCommitPoint } = outcome.error;
        return this.failed(marker, mail, smtpError, pastCommitPoint);
      }
      try {
        await mark.writeTo(marker);
      } catch (error) {
        return this.failed(marker, mail, error, false);
      }
      // Answered: implied by the lane's next mark, or recorded a moment later.
      this.transport.answered(lane, mail.id);
      this.metrics.mailsSent.inc();
      if (outcome.refused.length) await this.partlyRefused(marker, mail, outcome.refused);
      return 'sent';
    })();
    return { submission, done };
  }

  /**
   * The server took the mail for some recipients and refused others (a mailbox that does not exist):
   * sent, and the refusal kept in `last_error`, logged and counted, so an address book error shows.
   * Not retried: the message is out, and a second one to the others would be a duplicate.
   */
  private async partlyRefused(marker: Client, mail: ClaimedMail, refused: RefusedRecipient[]): Promise<void> {
    const message = `sent, but refused for ${refused.map((r) => `${r.address} (${r.response})`).join(', ')}`.slice(0, 1000);
    await marker.query(`UPDATE mail_outbox SET last_error = $2 WHERE id = $1 AND status = 'sent'`, [mail.id, message]);
    this.metrics.mailsFailed.inc({ reason: 'recipient_refused' }, refused.length);
    this.logger.warn(`mail ${mail.id}: ${message}`);
  }

  /**
   * A claim held too long without being sent (a slow SMTP server ahead of it on the lane) is put
   * back rather than sent late, so that it is never sent while another worker could take it over.
   * Returns when a job should try it again: now.
   */
  private async putBack(marker: Client, mail: ClaimedMail): Promise<number> {
    await marker.query(`UPDATE mail_outbox SET status = 'pending', claimed_by = NULL, attempts = attempts - 1 WHERE id = $1 AND status = 'sending' AND claimed_by = $2`, [
      mail.id,
      mail.claimedBy,
    ]);
    return Date.now();
  }

  /** `afterData`: the server refused the message itself, after its end of data — evidence for in-doubt mails (Reconciler). */
  private async failed(marker: Client, mail: ClaimedMail, error: unknown, afterData: boolean): Promise<'failed' | number> {
    const message = ((error as Error)?.message ?? String(error)).slice(0, 1000);
    const { baseMs, maxMs, giveUpMs } = this.config.mailRetry;
    const permanent = isPermanentSmtpRefusal(error);
    const nextAttempt = Date.now() + Math.min(maxMs, baseMs * 2 ** Math.max(0, mail.attempts - 1));
    if (permanent || nextAttempt > new Date(mail.createdAt).getTime() + giveUpMs) {
      await marker.query(
        `UPDATE mail_outbox SET status = 'failed', sent_at = NULL, last_error = $2, refused_after_data_at = CASE WHEN $3 THEN now() ELSE refused_after_data_at END WHERE id = $1`,
        [mail.id, permanent ? `refused: ${message}` : `gave up after ${mail.attempts} attempts: ${message}`, afterData],
      );
      this.metrics.mailsFailed.inc({ reason: permanent ? 'refused' : 'retries_exhausted' });
      this.logger.warn(`mail ${mail.id} failed for good: ${message}`);
      return 'failed';
    }
    await marker.query(
      `UPDATE mail_outbox SET status = 'pending', sent_at = NULL, last_error = $2, next_attempt_at = $3,
              refused_after_data_at = CASE WHEN $4 THEN now() ELSE refused_after_data_at END WHERE id = $1`,
      [mail.id, message, new Date(nextAttempt), afterData],
    );
    this.deferred.note(1, message);
    return nextAttempt;
  }
}
