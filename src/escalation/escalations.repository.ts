import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TtlCache } from '../common/ttl-cache';
import { jsonRows } from '../database/json-rows';
import { claimAbandoned } from '../mail/claims';
import { returnedRows } from '../database/returned-rows';
import { RequestPause } from '../requests/request-pause.entity';
import { ServiceRequest as RequestRow } from '../requests/request.entity';
import { OutboxMail } from '../mail/outbox-mail.entity';
import { Escalation } from './escalation.entity';

export interface EscalationContext {
  providerName: string;
  providerCode: string;
  customerName: string;
  customerCode: string;
  timezone: string;
  upstream: { id: string; title: string; status: string }[];
  downstream: { id: string; title: string; status: string }[];
}

export interface DepartmentContact {
  id: string;
  name: string;
  code: string;
  timezone: string;
  headEmail: string | null;
  escalationEmail: string | null;
}

export interface NewEscalation {
  requestId: string;
  kind: string;
  clockVersion: number;
  dueAt: Date;
  firedAt: Date;
  recipients: string[];
}

@Injectable()
export class EscalationsRepository {
  // Heads, ladders and ops change rarely and are read for every escalation fired.
  private readonly contacts = new TtlCache<DepartmentContact | null>(5000);
  private readonly ops = new TtlCache<string[]>(5000);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Whether any request's next deadline has passed: one index probe, no transaction (most timers of a drained burst find nothing). */
  async anyDue(now: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM requests WHERE next_deadline_at <= $1 LIMIT 1', [now]);
    return rows.length > 0;
  }

  /** Up to `limit` requests whose next deadline has passed, locked; rows another firing holds are skipped, not waited for. */
  claimDue(manager: EntityManager, now: Date, limit: number): Promise<RequestRow[]> {
    return manager
      .getRepository(RequestRow)
      .createQueryBuilder('r')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('r.next_deadline_at <= :now', { now })
      .orderBy('r.next_deadline_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  pausesOf(manager: EntityManager, ids: readonly string[]): Promise<RequestPause[]> {
    return manager.getRepository(RequestPause).createQueryBuilder('p').where('p.request_id = ANY(:ids)', { ids }).orderBy('p.started_at', 'ASC').getMany();
  }

  async firedKindsOf(manager: EntityManager, ids: readonly string[]): Promise<Map<string, Set<string>>> {
    const rows: { request_id: string; kind: string }[] = await manager.query('SELECT DISTINCT request_id, kind FROM escalations WHERE request_id = ANY($1)', [ids]);
    const fired = new Map<string, Set<string>>();
    for (const r of rows) (fired.get(r.request_id) ?? fired.set(r.request_id, new Set()).get(r.request_id)!).add(r.kind);
    return fired;
  }

  async departmentContacts(ids: readonly string[]): Promise<Map<string, DepartmentContact>> {
    const out = new Map<string, DepartmentContact>();
    for (const id of new Set(ids)) {
      const contact = await this.contacts.get(id, async () => {
        const rows: { id: string; name: string; code: string; timezone: string; head_email: string | null; escalation_email: string | null }[] = await this.dataSource.query(
          `SELECT d.id, d.name, d.code, d.timezone, u.email AS head_email, d.escalation_email
             FROM departments d LEFT JOIN users u ON u.id = d.head_user_id AND u.active WHERE d.id = $1`,
          [id],
        );
        const r = rows[0];
        return r ? { id: r.id, name: r.name, code: r.code, timezone: r.timezone, headEmail: r.head_email, escalationEmail: r.escalation_email } : null;
      });
      if (contact) out.set(id, contact);
    }
    return out;
  }

  opsAddresses(): Promise<string[]> {
    return this.ops.get('ops', async () => {
      const rows: { email: string }[] = await this.dataSource.query(`SELECT email FROM users WHERE role = 'ops' AND active ORDER BY email`);
      return rows.map((r) => r.email);
    });
  }

  async activeEmails(manager: EntityManager, userIds: readonly string[]): Promise<Map<string, string>> {
    if (userIds.length === 0) return new Map();
    const rows: { id: string; email: string }[] = await manager.query('SELECT id, email FROM users WHERE id = ANY($1) AND active', [userIds]);
    return new Map(rows.map((r) => [r.id, r.email]));
  }

  /** Titles and statuses of what each request waits on and what waits on it, for the mail. */
  async neighbours(manager: EntityManager, ids: readonly string[]): Promise<{ upstream: Map<string, { id: string; title: string; status: string }[]>; downstream: Map<string, { id: string; title: string; status: string }[]> }> {
    const rows: { request_id: string; depends_on_id: string; up_title: string; up_status: string; down_title: string; down_status: string }[] = await manager.query(
      `SELECT d.request_id, d.depends_on_id, up.title AS up_title, up.status AS up_status, down.title AS down_title, down.status AS down_status
         FROM request_dependencies d JOIN requests up ON up.id = d.depends_on_id JOIN requests down ON down.id = d.request_id
        WHERE d.request_id = ANY($1) OR d.depends_on_id = ANY($1)`,
      [ids],
    );
    const upstream = new Map<string, { id: string; title: string; status: string }[]>();
    const downstream = new Map<string, { id: string; title: string; status: string }[]>();
    for (const r of rows) {
      (upstream.get(r.request_id) ?? upstream.set(r.request_id, []).get(r.request_id)!).push({ id: r.depends_on_id, title: r.up_title, status: r.up_status });
      (downstream.get(r.depends_on_id) ?? downstream.set(r.depends_on_id, []).get(r.depends_on_id)!).push({ id: r.request_id, title: r.down_title, status: r.down_status });
    }
    return { upstream, downstream };
  }

  /** Records escalations in one statement; answers the ones that were new (a repeat is refused by the unique key). */
  async recordMany(manager: EntityManager, escalations: readonly NewEscalation[]): Promise<Map<string, string>> {
    if (escalations.length === 0) return new Map();
    const values: unknown[] = [];
    const tuples = escalations.map((e, i) => {
      values.push(e.requestId, e.kind, e.clockVersion, e.dueAt, e.firedAt, JSON.stringify(e.recipients));
      const b = i * 6;
      return `($${b + 1}::uuid, $${b + 2}, $${b + 3}::integer, $${b + 4}::timestamptz, $${b + 5}::timestamptz, $${b + 6}::jsonb)`;
    });
    const rows: { id: string; request_id: string; kind: string }[] = await manager.query(
      `INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at, recipients) VALUES ${tuples.join(', ')}
       ON CONFLICT ON CONSTRAINT escalations_once_key DO NOTHING RETURNING id, request_id, kind`,
      values,
    );
    return new Map(rows.map((r) => [`${r.request_id}|${r.kind}`, r.id]));
  }

  async addMails(manager: EntityManager, mails: readonly (Pick<OutboxMail, 'escalationId' | 'requestId' | 'kind' | 'recipients' | 'subject' | 'textBody' | 'htmlBody' | 'headers' | 'dueAt'> & { status: OutboxMail['status']; lastError: string | null })[]): Promise<{ id: string; status: string }[]> {
    if (mails.length === 0) return [];
    // One parameter however many mails: no statement of thousands of placeholders to parse per batch.
    return manager.query(
      `INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at, status, last_error)
       SELECT escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at, status, last_error
         FROM jsonb_populate_recordset(NULL::mail_outbox, $1::jsonb)
       RETURNING id, status`,
      [
        jsonRows(
          mails.map((m) => ({
            escalation_id: m.escalationId,
            request_id: m.requestId,
            kind: m.kind,
            recipients: m.recipients,
            subject: m.subject,
            text_body: m.textBody,
            html_body: m.htmlBody,
            headers: m.headers,
            due_at: m.dueAt,
            status: m.status,
            last_error: m.lastError,
          })),
        ),
      ],
    );
  }

  /** Next deadline, breach flags and level of many requests in one statement. */
  async updateAfterFiring(
    manager: EntityManager,
    updates: readonly { id: string; next: { dueAt: number; kind: string } | null; breachedResponse: boolean; breachedResolution: boolean; raiseLevelBy: number; clearChainCheck: boolean }[],
  ): Promise<void> {
    if (updates.length === 0) return;
    const values: unknown[] = [];
    const tuples = updates.map((u, i) => {
      values.push(u.id, u.next ? new Date(u.next.dueAt) : null, u.next?.kind ?? null, u.breachedResponse, u.breachedResolution, u.raiseLevelBy, u.clearChainCheck);
      const b = i * 7;
      return `($${b + 1}::uuid, $${b + 2}::timestamptz, $${b + 3}::text, $${b + 4}::boolean, $${b + 5}::boolean, $${b + 6}::integer, $${b + 7}::boolean)`;
    });
    await manager.query(
      `UPDATE requests r SET next_deadline_at = v.next_at, next_deadline_kind = v.next_kind,
         breached_response = r.breached_response OR v.br, breached_resolution = r.breached_resolution OR v.bs,
         escalation_level = r.escalation_level + v.raise,
         chain_check_at = CASE WHEN v.clear_check THEN NULL ELSE r.chain_check_at END
       FROM (VALUES ${tuples.join(', ')}) AS v(id, next_at, next_kind, br, bs, raise, clear_check) WHERE r.id = v.id`,
      values,
    );
  }

  async firedKinds(manager: EntityManager, requestId: string): Promise<Set<string>> {
    const rows: { kind: string }[] = await manager.query('SELECT DISTINCT kind FROM escalations WHERE request_id = $1', [requestId]);
    return new Set(rows.map((r) => r.kind));
  }

  /** The record that makes an escalation happen once: false when this (request, kind, clock version) already fired. */
  async record(manager: EntityManager, escalation: Omit<Escalation, 'id'>): Promise<string | null> {
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at, recipients)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ON CONSTRAINT escalations_once_key DO NOTHING RETURNING id`,
      [escalation.requestId, escalation.kind, escalation.clockVersion, escalation.dueAt, escalation.firedAt, JSON.stringify(escalation.recipients)],
    );
    return rows[0]?.id ?? null;
  }

  async addMail(manager: EntityManager, mail: Pick<OutboxMail, 'escalationId' | 'requestId' | 'kind' | 'recipients' | 'subject' | 'textBody' | 'htmlBody' | 'headers' | 'dueAt'> & { status?: OutboxMail['status']; lastError?: string | null }): Promise<string> {
    const saved = await manager.getRepository(OutboxMail).save(manager.getRepository(OutboxMail).create(mail));
    return saved.id;
  }

  opsEmails(): Promise<string[]> {
    return this.opsAddresses();
  }

  /** Outbox rows to (re)queue: pending ones due before `until` (keyset batches). */
  unsentMails(after: { at: Date; id: string } | undefined, until: Date, limit: number): Promise<{ id: string; next_attempt_at: Date }[]> {
    return this.dataSource.query(
      `SELECT id, next_attempt_at FROM mail_outbox
        WHERE status = 'pending' AND next_attempt_at <= $1
          AND ($2::timestamptz IS NULL OR (next_attempt_at, id) > ($2, $3::uuid))
        ORDER BY next_attempt_at, id LIMIT $4`,
      [until, after?.at ?? null, after?.id ?? null, limit],
    );
  }

  /**
   * Claims abandoned by their sender (claims.ts) go back to `pending`: the oldest due mail, so the
   * next claim of any running mail job takes them first, even in a burst when every lane is busy
   * with jobs that claim on and on. `staleClaimSeconds`: the age limit for a live sender's claim.
   */
  async releaseAbandonedClaims(staleClaimSeconds: number): Promise<string[]> {
    const rows = returnedRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE mail_outbox m SET status = 'pending', claimed_by = NULL
          WHERE m.status = 'sending' AND ${claimAbandoned('$1')}
          RETURNING m.id`,
        [staleClaimSeconds],
      ),
    );
    return rows.map((r) => r.id);
  }

  /**
   * Mails marked `sent` at their end of data whose lane died before it read the server's answer:
   * the last mail of a `mail_lanes` row whose backend is gone, still unanswered, and still `sent`
   * by that lane's mark (its `sent_at` is the mark's; a refused mail sent again later is not). The
   * server may have taken it or refused it. When it refused some mail after the end of data within
   * a minute of this one, it most likely refused this one too: back to `pending`, sent again (a
   * duplicate if it had in fact taken it). Otherwise the server is taken at its usual word:
   * delivered. The dead lanes' rows go. docs/escalation.md.
   */
  async settleInDoubt(): Promise<{ resent: string[]; delivered: number }> {
    const rows = returnedRows<{ id: string; resend: boolean }>(
      await this.dataSource.query(
        `WITH dead AS (
           DELETE FROM mail_lanes l
            WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                               WHERE a.pid = l.backend_pid AND (a.backend_start IS NULL OR a.backend_start = l.backend_start))
            RETURNING l.marked, l.marked_at, l.answered
         ), doubt AS (
           SELECT m.id,
                  EXISTS (SELECT 1 FROM mail_outbox r
                           WHERE r.refused_after_data_at BETWEEN m.sent_at - interval '60 seconds' AND m.sent_at + interval '60 seconds') AS resend
             FROM dead d JOIN mail_outbox m ON m.id = d.marked
            WHERE NOT d.answered AND m.status = 'sent' AND m.sent_at = d.marked_at
         )
         UPDATE mail_outbox m
            SET status = CASE WHEN d.resend THEN 'pending' ELSE 'sent' END,
                sent_at = CASE WHEN d.resend THEN NULL ELSE m.sent_at END,
                next_attempt_at = CASE WHEN d.resend THEN now() ELSE m.next_attempt_at END,
                claimed_by = CASE WHEN d.resend THEN NULL ELSE m.claimed_by END,
                last_error = CASE WHEN d.resend THEN $1 ELSE $2 END
           FROM doubt d
          WHERE m.id = d.id
          RETURNING m.id, d.resend`,
        [
          'its sender died before reading the answer to the end of data while the server was refusing mail after the data: sent again',
          'its sender died before reading the answer to the end of data; counted as delivered (no mail was being refused after the data then)',
        ],
      ),
    );
    return { resent: rows.filter((r) => r.resend).map((r) => r.id), delivered: rows.filter((r) => !r.resend).length };
  }

  deadlinesBefore(until: Date, after: { at: Date; id: string } | undefined, limit: number): Promise<{ id: string; clock_version: number; next_deadline_at: Date; next_deadline_kind: string }[]> {
    return this.dataSource.query(
      `SELECT id, clock_version, next_deadline_at, next_deadline_kind FROM requests
       WHERE next_deadline_at IS NOT NULL AND next_deadline_at <= $1
         AND ($2::timestamptz IS NULL OR (next_deadline_at, id) > ($2, $3::uuid))
       ORDER BY next_deadline_at, id LIMIT $4`,
      [until, after?.at ?? null, after?.id ?? null, limit],
    );
  }
}

