import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Chains: a blocked pause names the request it waited on (so the wait is charged upstream),
 * and each request remembers the at-risk episode it is in, so `chain_at_risk` fires once per episode.
 */
export class Chains1764200000000 implements MigrationInterface {
  name = 'Chains1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE request_pauses ADD COLUMN blocking_request_id uuid REFERENCES requests (id)`);
    await db.query(`CREATE INDEX request_pauses_blocking_idx ON request_pauses (blocking_request_id) WHERE blocking_request_id IS NOT NULL`);
    await db.query(`ALTER TABLE requests ADD COLUMN at_risk_episode integer NOT NULL DEFAULT 0, ADD COLUMN at_risk_since timestamptz, ADD COLUMN chain_check_at timestamptz`);
    await db.query(`CREATE INDEX requests_open_slack_idx ON requests (slack_seconds, id) WHERE slack_seconds IS NOT NULL AND status NOT IN ('resolved', 'closed', 'cancelled')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX requests_open_slack_idx`);
    await db.query(`ALTER TABLE requests DROP COLUMN at_risk_episode, DROP COLUMN at_risk_since, DROP COLUMN chain_check_at`);
    await db.query(`DROP INDEX request_pauses_blocking_idx`);
    await db.query(`ALTER TABLE request_pauses DROP COLUMN blocking_request_id`);
  }
}
