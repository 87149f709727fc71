import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A mail is marked `sent` the instant its end of data is written, before the server answers
 * (docs/escalation.md). `mail_lanes`: one narrow row per mail lane's PostgreSQL connection, naming
 * the mail it marked last (and when: the mark's own `sent_at`) and whether the server's answer to it has been read (the lane's next mark
 * says so, or the lane when it goes idle). A lane whose backend is gone and whose last mail is
 * unanswered leaves that mail in doubt. `refused_after_data_at`: the last time the server refused a
 * mail after its end of data, the evidence the reconciler weighs for an in-doubt mail of that moment.
 */
export class OutboxInDoubt1764800000000 implements MigrationInterface {
  name = 'OutboxInDoubt1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE mail_lanes (
      id uuid PRIMARY KEY,
      backend_pid integer NOT NULL,
      backend_start timestamptz NOT NULL,
      marked uuid,
      marked_at timestamptz,
      answered boolean NOT NULL DEFAULT true
    )`);
    await q.query(`ALTER TABLE mail_outbox ADD COLUMN refused_after_data_at timestamptz`);
    await q.query(`CREATE INDEX mail_outbox_refused_after_data_idx ON mail_outbox (refused_after_data_at) WHERE refused_after_data_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX mail_outbox_refused_after_data_idx`);
    await q.query(`ALTER TABLE mail_outbox DROP COLUMN refused_after_data_at`);
    await q.query(`DROP TABLE mail_lanes`);
  }
}
