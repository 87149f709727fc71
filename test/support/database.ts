import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ALL_MIGRATIONS } from '../../migrations';
import { dataSourceOptions } from '../../src/database/data-source-options';

/** Where tests find PostgreSQL; each test file gets a database of its own on it. */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TEMPLATE_LOCK = 727_070_002;

function urlFor(database: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withServer<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The template's name carries a hash of the migrations' code, so any change to them makes a new template. */
function templateName(): string {
  const source = ALL_MIGRATIONS.map((m) => `${m.name}:${m.prototype.up.toString()}`).join('\n');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  return `handoff_test_tpl_${hash}`;
}

async function ensureTemplate(client: Client): Promise<string> {
  const template = templateName();
  await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (exists.rowCount) return template;
    // Templates of older migrations are of no further use.
    const stale = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE 'handoff\\_test\\_tpl\\_%' AND datname <> $1`, [template]);
    for (const row of stale.rows as { datname: string }[]) await client.query(`DROP DATABASE IF EXISTS ${row.datname}`).catch(() => undefined);
    const building = `${template}_building`;
    await client.query(`DROP DATABASE IF EXISTS ${building}`);
    await client.query(`CREATE DATABASE ${building}`);
    const dataSource = new DataSource(dataSourceOptions(urlFor(building), 1));
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.destroy();
    await client.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
    return template;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file, cloned from the template in a few milliseconds. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `handoff_t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  await withServer(async (client) => {
    const template = await ensureTemplate(client);
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  });
  return {
    name,
    url: urlFor(name),
    drop: () => withServer(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
