import type { IncomingMessage, ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import { INestApplicationContext, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module';
import { AppConfig } from './common/app-config';
import { createLogger, RequestLog } from './common/logging';
import { answerClientError, answerFrameworkError, installEdgeGuards, MAX_BODY_BYTES, requestIdOf } from './common/edge-guards';
import { ensureDatabaseExists } from './database/ensure-database';
import { runPendingMigrations } from './database/migrate';
import { instrumentHttp, MetricsRegistry } from './operations/metrics';
import { mountQueueBoard } from './operations/queue-board';
import { checkRedisReachable } from './operations/redis-client';

/**
 * What Node's own `listen(port)` binds: every IPv6 and IPv4 address where the host has IPv6, every
 * IPv4 address otherwise (Fastify's default would be localhost only).
 */
export const ALL_INTERFACES = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv6')) ? '::' : '0.0.0.0';

/** What must hold before Nest starts: the database exists and is migrated, Redis answers. */
export async function prepareInfrastructure(config: AppConfig): Promise<string[]> {
  await ensureDatabaseExists(config.databaseUrl);
  const applied = config.migrationsRun ? await runPendingMigrations(config.databaseUrl) : [];
  await checkRedisReachable(config.redisUrl);
  return applied;
}

/** The HTTP application (ROLE api or all): the API under /api/v1, health, metrics and docs beside it. */
export async function createHttpApp(config: AppConfig, options: AppOptions = {}): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createLogger(config, options.logLevel);
  const adapter = new FastifyAdapter({
    // Each call gets Fastify's child logger bound to its request id, and one line when it is answered.
    loggerInstance: logger,
    logController: new RequestLog(),
    bodyLimit: MAX_BODY_BYTES,
    trustProxy: false,
    // Node's own limit for a whole request (Fastify's default is none): a slow client cannot hold a socket for ever.
    requestTimeout: 300_000,
    // Express's habits, which clients of the API may rely on: `/requests/` is `/requests`.
    // A parameter is never cut short (Fastify's default 100 characters would answer 414 for a long bad id).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16 * 1024 },
    // `__proto__` and `constructor` keys reach refuseHostileJson, which names the field.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    genReqId: requestIdOf,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, { ...options, logger }), adapter, {
    bufferLogs: true,
    abortOnError: false,
    // installEdgeGuards registers the one body parser (strict JSON).
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Nest flushes its buffered lines at listen(); a test app never listens, and its lines should show too.
  app.flushLogs();
  const fastify = app.getHttpAdapter().getInstance();
  installEdgeGuards(fastify);
  instrumentHttp(fastify, app.get(MetricsRegistry));
  const headers = secureHeaders();
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
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
  await mountQueueBoard(app);
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

/**
 * helmet's headers. With static directives they are the same for every answer, so helmet runs once,
 * here, and each call gets the list (helmet's chain of a dozen middlewares, each setting its header
 * on Node's response, was 3–4 % of a create's CPU; @fastify/helmet would even rebuild it per call).
 */
function secureHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const capture = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  let finished = false;
  helmet({
    contentSecurityPolicy: {
      directives: { 'script-src': ["'self'", "'unsafe-inline'"], 'style-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'] },
    },
  })({} as IncomingMessage, capture as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error as Error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

/** ROLE=worker: the same modules without an HTTP server. */
export async function createWorkerContext(config: AppConfig, options: AppOptions = {}): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config, options), { bufferLogs: true, abortOnError: false });
  context.useLogger(context.get(Logger));
  context.enableShutdownHooks();
  return context;
}
