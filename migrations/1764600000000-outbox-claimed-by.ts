import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which PostgreSQL backend claimed an outbox row for sending (`pg_backend_pid()` of the mail lane's
 * connection). A claim whose backend is gone — its worker died, and with it the connection — is
 * taken over at once instead of after a fixed age; a live sender's claim is never taken over
 * early, however slow its SMTP server (docs/escalation.md).
 */
export class OutboxClaimedBy1764600000000 implements MigrationInterface {
  name = 'OutboxClaimedBy1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_outbox ADD COLUMN claimed_by integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_outbox DROP COLUMN claimed_by`);
  }
}
