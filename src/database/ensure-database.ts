import { Client } from 'pg';
import { postgresUnreachableMessage, StartupError } from './connection-errors';

const CONNECT_TIMEOUT_MS = 5000;

/** Creates the database named in the URL when it is missing and the server allows it. */
export async function ensureDatabaseExists(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'postgres';
  const direct = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await direct.connect();
    await direct.end();
    return;
  } catch (error) {
    await direct.end().catch(() => undefined);
    if ((error as { code?: string }).code !== '3D000') {
      throw new StartupError(postgresUnreachableMessage(databaseUrl, error));
    }
  }
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const admin = new Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Created by a process starting beside us: PostgreSQL says so as 42P04, or, when both inserted
    // into its catalog at the same instant, as a unique violation (23505) of pg_database's name.
    if (code === '42P04' || code === '23505') return;
    if (code === '42501') {
      throw new StartupError(
        `Database "${name}" does not exist and the user in DATABASE_URL may not create it; create it with: createdb ${name}`,
      );
    }
    if (code && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && code !== '57P03') {
      // A SQLSTATE other than a connection failure: PostgreSQL is reachable and refused the CREATE DATABASE.
      throw new StartupError(`Could not create database "${name}" named in DATABASE_URL: ${(error as Error).message} (${code}); create it with: createdb ${name}`);
    }
    throw new StartupError(postgresUnreachableMessage(databaseUrl, error));
  } finally {
    await admin.end().catch(() => undefined);
  }
}
