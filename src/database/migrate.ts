import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { postgresUnreachableMessage, StartupError } from './connection-errors';
import { dataSourceOptions } from './data-source-options';

const MIGRATION_LOCK = 727_070_001;

/** Applies pending migrations; an advisory lock keeps processes starting together from racing. */
export async function runPendingMigrations(databaseUrl: string): Promise<string[]> {
  const lock = new Client({ connectionString: databaseUrl });
  try {
    await lock.connect();
  } catch (error) {
    throw new StartupError(postgresUnreachableMessage(databaseUrl, error));
  }
  const dataSource = new DataSource(dataSourceOptions(databaseUrl, 2));
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}
