import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox row keeps its escalation's id (still unique) without a foreign key. Both rows are
 * written by the same firing, in one transaction, the id taken from the escalation's RETURNING,
 * and escalations are never deleted, so the key checked nothing the code does not already hold.
 * It cost a lookup per mail through a plan each connection caches the first time: while the
 * escalations table was new or small that plan was a sequential scan, and it stayed one as the
 * table grew, until autovacuum's next analyze. In the burst benchmark that check was 0.39 ms per
 * mail, half of PostgreSQL's time for the whole escalation (docs/benchmarks.md).
 */
export class OutboxEscalationUnchecked1764500000000 implements MigrationInterface {
  name = 'OutboxEscalationUnchecked1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_escalation_id_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_escalation_id_fkey FOREIGN KEY (escalation_id) REFERENCES escalations (id)`);
  }
}
