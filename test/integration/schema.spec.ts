import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('migrations and entities agree', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('schema');
    dataSource = await new DataSource(dataSourceOptions(database.url, 2)).initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  it('every column and index of the entities is in the migrated schema, and nothing more', async () => {
    const pending = (await dataSource.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
    // The migration adds foreign keys and CHECK constraints the entities do not model as
    // relations; TypeORM's diff offers to drop them, and that is all it may offer.
    const constraintDrops = pending.filter((q) => /^ALTER TABLE "\w+" DROP CONSTRAINT "\w+_(fkey|fk|check)"$/.test(q));
    expect(pending.filter((q) => !constraintDrops.includes(q))).toEqual([]);
    expect(constraintDrops.length).toBeGreaterThan(20);
  });

  it('every migration is applied and can be reverted and re-applied', async () => {
    expect(await dataSource.showMigrations()).toBe(false);
    await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await dataSource.showMigrations()).toBe(true);
    await dataSource.runMigrations({ transaction: 'each' });
    expect(await dataSource.showMigrations()).toBe(false);
  });
});
