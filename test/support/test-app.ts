import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type TestAgent from 'supertest/lib/agent';
import { createHttpApp } from '../../src/bootstrap';
import { AppConfig } from '../../src/common/app-config';
import { Clock, ManualClock } from '../../src/common/clock';
import { deleteKeysUnder } from '../../src/operations/redis-client';
import { DEMO_PASSWORD, seedFlowerShop, type FlowerShop } from '../../src/demo/flower-shop';
import { PasswordHasher } from '../../src/identity/password-hasher';
import type { DevMailbox } from '../../src/mail/dev-mailbox';
import { createTestDatabase, type TestDatabase } from './database';
import { SmtpSink } from './smtp-sink';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  dataSource: DataSource;
  database: TestDatabase;
  clock: ManualClock;
  queuePrefix: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  now?: string;
  env?: Record<string, string>;
  /** ROLE=all: timers fire and mail goes out in this process. Otherwise ROLE=api. */
  worker?: boolean;
  /** The wall clock instead of one moved by hand (default: with a worker). */
  realTime?: boolean;
  devMailbox?: DevMailbox;
  /** The process's logger (default: a silent one, whatever NODE_ENV says). */
  logger?: Logger;
}


/** Boots the real application against a fresh database, with a clock the test moves by hand. */
export async function startTestApp(label: string, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase(label);
  const queuePrefix = `handoff-test-${database.name}`;
  const config = AppConfig.with({
    DATABASE_URL: database.url,
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    QUEUE_PREFIX: queuePrefix,
    ROLE: options.worker ? 'all' : 'api',
    ...options.env,
  });
  const clock = new ManualClock(new Date(options.now ?? '2026-12-01T09:00:00Z'));
  const app = await createHttpApp(config, { clock: (options.realTime ?? options.worker) ? new Clock() : clock, devMailbox: options.devMailbox, logger: options.logger, logLevel: 'silent' });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const dataSource = app.get(DataSource);
  return {
    app,
    http: request(app.getHttpServer()),
    dataSource,
    database,
    clock,
    queuePrefix,
    async close() {
      await app.close();
      await deleteKeysUnder(config.redisUrl, queuePrefix).catch(() => undefined);
      await database.drop();
    },
  };
}

/** Seeds the flower shop and signs every demo user in; tokens by the seed's user keys. */
export async function withFlowerShop(t: TestApp): Promise<{ shop: FlowerShop; tokens: Record<string, string> }> {
  const hash = await new PasswordHasher().hash(DEMO_PASSWORD);
  const shop = await seedFlowerShop(t.dataSource, hash);
  const tokens: Record<string, string> = {};
  for (const [key, user] of Object.entries(shop.users)) {
    const answer = await t.http.post('/api/v1/auth/login').send({ email: user.email, password: DEMO_PASSWORD });
    if (answer.status !== 200) throw new Error(`login of ${user.email} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    tokens[key] = answer.body.accessToken as string;
  }
  return { shop, tokens };
}

export interface MailingApp {
  t: TestApp;
  sink: SmtpSink;
  shop: FlowerShop;
  tokens: Record<string, string>;
  close(): Promise<void>;
}

/** A worker app (ROLE=all: timers fire, mail goes out) mailing a fresh SMTP sink, the flower shop seeded and signed in. */
export async function startMailingApp(label: string, env: Record<string, string> = {}): Promise<MailingApp> {
  const sink = await SmtpSink.start();
  const t = await startTestApp(label, { worker: true, env: { SMTP_URL: sink.url, ...env } });
  const { shop, tokens } = await withFlowerShop(t);
  return {
    t,
    sink,
    shop,
    tokens,
    async close() {
      await t.close();
      await sink.stop();
    },
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
