import type { DataSourceOptions } from 'typeorm';
import { ALL_MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './snake-naming.strategy';

const IDLE_CONNECTION_MS = 10 * 60_000;

/** The one description of the database, shared by the app, the migration CLI, tests and benchmarks. */
export function dataSourceOptions(databaseUrl: string, poolSize = 20): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: ALL_MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    namingStrategy: new SnakeNamingStrategy(),
    // A connection idle for 10 s was closed (pg-pool's default), so a burst after a quiet spell met
    // new backends: forked, with cold catalog caches, their cached plans and PL/pgSQL trigger
    // functions still to build. Idle connections are kept for 10 minutes instead.
    extra: { max: poolSize, connectionTimeoutMillis: 10_000, idleTimeoutMillis: IDLE_CONNECTION_MS },
    logging: false,
  };
}
