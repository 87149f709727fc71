import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Timers and the outbox: each request's next deadline, every escalation fired, and its mail. */
export class EscalationOutbox1764100000000 implements MigrationInterface {
  name = 'EscalationOutbox1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE requests
      ADD COLUMN clock_version integer NOT NULL DEFAULT 1,
      ADD COLUMN next_deadline_at timestamptz,
      ADD COLUMN next_deadline_kind text`);
    // The reconciler walks this index in keyset batches; rows with no deadline are not in it.
    await db.query(`CREATE INDEX requests_next_deadline_idx ON requests (next_deadline_at, id) WHERE next_deadline_at IS NOT NULL`);
    await db.query(`CREATE TABLE escalations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      request_id uuid NOT NULL REFERENCES requests (id),
      kind text NOT NULL,
      clock_version integer NOT NULL,
      due_at timestamptz NOT NULL,
      fired_at timestamptz NOT NULL,
      recipients jsonb NOT NULL DEFAULT '[]',
      CONSTRAINT escalations_once_key UNIQUE (request_id, kind, clock_version)
    )`);
    await db.query(`CREATE INDEX escalations_fired_idx ON escalations (fired_at)`);
    await db.query(`CREATE TABLE mail_outbox (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      escalation_id uuid NOT NULL CONSTRAINT mail_outbox_escalation_key UNIQUE REFERENCES escalations (id),
      request_id uuid NOT NULL REFERENCES requests (id),
      kind text NOT NULL,
      recipients jsonb NOT NULL,
      subject text NOT NULL,
      text_body text NOT NULL,
      html_body text NOT NULL,
      headers jsonb NOT NULL,
      due_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      claimed_at timestamptz,
      sent_at timestamptz,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    // Senders claim due mail in this order; the reconciler walks it too.
    await db.query(`CREATE INDEX mail_outbox_unsent_idx ON mail_outbox (next_attempt_at, id) WHERE status IN ('pending', 'sending')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE mail_outbox`);
    await db.query(`DROP TABLE escalations`);
    await db.query(`DROP INDEX requests_next_deadline_idx`);
    await db.query(`ALTER TABLE requests DROP COLUMN clock_version, DROP COLUMN next_deadline_at, DROP COLUMN next_deadline_kind`);
  }
}
