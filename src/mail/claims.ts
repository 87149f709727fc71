/** Who may take over an outbox row claimed for sending: MailSender's claims and the reconciler's pass. */

/** A sender does not start sending a mail it claimed longer ago than this; it puts the mail back instead. */
export const SEND_CLAIMED_WITHIN_SECONDS = 30;

/**
 * A claim is taken over at once when the PostgreSQL backend that made it (the lane's connection,
 * `claimed_by`) is gone: its worker died, and the kernel closed the connection with it. A claim
 * whose backend lives is taken over only after this long — a worker hung with its connections
 * open — well past SEND_CLAIMED_WITHIN_SECONDS plus one slow SMTP exchange, so a live sender's mail
 * is never sent twice because its SMTP server was slow.
 */
export const STALE_CLAIM_SECONDS = 120;

/** SQL: outbox row `m`'s claim may be taken over (`ageParam`: the placeholder holding STALE_CLAIM_SECONDS). */
export function claimAbandoned(ageParam: string): string {
  // backend_start: a pid reused by a later backend does not keep a dead claim alive. It reads as NULL
  // for sessions of another role; such a claim counts as alive and waits for the age limit.
  return `((m.claimed_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                                   WHERE a.pid = m.claimed_by AND (a.backend_start IS NULL OR a.backend_start <= m.claimed_at)))
           OR m.claimed_at < now() - make_interval(secs => ${ageParam}))`;
}
