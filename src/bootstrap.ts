import { INestApplication, INestApplicationContext, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module';
import { AppConfig } from './common/app-config';
import { assignRequestId, bodyParserErrors, refuseHostileJson } from './common/edge-guards';
import { ensureDatabaseExists } from './database/ensure-database';
import { runPendingMigrations } from './database/migrate';
import { mountQueueBoard } from './operations/queue-board';
import { checkRedisReachable } from './operations/redis-client';

/** What must hold before Nest starts: the database exists and is migrated, Redis answers. */
export async function prepareInfrastructure(config: AppConfig): Promise<string[]> {
  await ensureDatabaseExists(config.databaseUrl);
  const applied = config.migrationsRun ? await runPendingMigrations(config.databaseUrl) : [];
  await checkRedisReachable(config.redisUrl);
  return applied;
}

/** The HTTP application (ROLE api or all): the API under /api/v1, health, metrics and docs beside it. */
export async function createHttpApp(config: AppConfig, options: AppOptions = {}): Promise<INestApplication> {
  // Body parsing is registered by hand, after the request id, so even a refused body gets an id.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.use(assignRequestId);
  app.useBodyParser('json', { limit: '256kb' });
  app.use(bodyParserErrors);
  app.use(refuseHostileJson);
  app.set('trust proxy', false);
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'script-src': ["'self'", "'unsafe-inline'"], 'style-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'] },
      },
    }),
  );
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
      { path: 'dev/mail', method: RequestMethod.GET },
      { path: 'dev/mail/json', method: RequestMethod.GET },
      { path: 'dashboard', method: RequestMethod.GET },
      { path: 'dashboard/assets/:asset', method: RequestMethod.GET },
    ],
  });
  mountQueueBoard(app);
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Handoff')
      .setDescription('Internal service levels between departments: requests, business-time clocks, escalations and chains.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** ROLE=worker: the same modules without an HTTP server. */
export async function createWorkerContext(config: AppConfig, options: AppOptions = {}): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config, options), { bufferLogs: true, abortOnError: false });
  context.useLogger(context.get(Logger));
  context.enableShutdownHooks();
  return context;
}
