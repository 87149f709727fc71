import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A service without its own lead time uses the median business time it took to resolve over the
 * last 90 days (docs/chains.md). This index answers that median from the index alone, without
 * scanning every request of the service.
 */
export class LeadTimeIndex1764400000000 implements MigrationInterface {
  name = 'LeadTimeIndex1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX requests_service_resolved_idx ON requests (service_id, resolved_at, resolve_business_seconds)
       WHERE resolve_business_seconds IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX requests_service_resolved_idx`);
  }
}
