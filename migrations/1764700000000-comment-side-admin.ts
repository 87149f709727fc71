import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A comment by an admin who belongs to neither department of the request is the admin's own, not
 * the provider's: it does not stop the response clock, nor resume a request waiting on the customer.
 */
export class CommentSideAdmin1764700000000 implements MigrationInterface {
  name = 'CommentSideAdmin1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE request_comments DROP CONSTRAINT request_comments_side_check`);
    await q.query(`ALTER TABLE request_comments ADD CONSTRAINT request_comments_side_check CHECK (side IN ('provider', 'customer', 'admin'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE request_comments SET side = 'provider' WHERE side = 'admin'`);
    await q.query(`ALTER TABLE request_comments DROP CONSTRAINT request_comments_side_check`);
    await q.query(`ALTER TABLE request_comments ADD CONSTRAINT request_comments_side_check CHECK (side IN ('provider', 'customer'))`);
  }
}
