import { createSecretKey } from 'node:crypto';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AgreementsModule } from './agreements/agreements.module';
import { ChainsModule } from './chains/chains.module';
import { AppConfig } from './common/app-config';
import { Clock } from './common/clock';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { createLogger } from './common/logging';
import { createValidationPipe } from './common/validation';
import { dataSourceOptions } from './database/data-source-options';
import { EscalationModule } from './escalation/escalation.module';
import { RepositoriesModule } from './database/repositories.module';
import { AuthGuard } from './identity/auth.guard';
import { DevMailController } from './mail/dev-mail.controller';
import { DevMailbox } from './mail/dev-mailbox';
import { IdentityModule } from './identity/identity.module';
import { OperationsModule } from './operations/operations.module';
import { OrgModule } from './org/org.module';
import { ClocksModule } from './requests/clocks.module';
import { ReportsModule } from './reports/reports.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { RequestsModule } from './requests/requests.module';

export interface AppOptions {
  /** Replace the wall clock (tests, the demo). */
  clock?: Clock;
  logLevel?: string;
  /** The process's pino logger, when the caller made it (the HTTP app gives the same one to Fastify). */
  logger?: Logger;
  /** Development only: the SMTP catcher `npm start` runs when nothing listens at SMTP_URL. */
  devMailbox?: DevMailbox;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Fastify's logger is the one logger (createHttpApp passes it), and nestjs-pino writes Nest's Loggers through it.
        // No per-call binding (`forRoutes: []`): it needs an AsyncLocalStorage, which on Node 20 runs hooks on every
        // promise — a fifth of a create's CPU with the middleware layer it brings. A call's own lines (its request
        // line, a 5xx's error) are written on Fastify's `request.log`, which carries the `reqId`.
        LoggerModule.forRoot({
          pinoHttp: { logger: options.logger ?? createLogger(config, options.logLevel) },
          useExisting: true,
          forRoutes: [],
        }),
        TypeOrmModule.forRoot({ ...dataSourceOptions(config.databaseUrl), retryAttempts: 0 }),
        // A prepared key: with a plain string the JWT library tries (and fails) to parse a public key on every call.
        JwtModule.register({ global: true, secret: createSecretKey(Buffer.from(config.jwtSecret)), signOptions: { algorithm: 'HS256' } }),
        ThrottlerModule.forRoot({ throttlers: [{ name: 'login', limit: 10, ttl: 60_000 }] }),
        RepositoriesModule,
        ClocksModule,
        EscalationModule.register({ worker: config.runsWorker }),
        IdentityModule,
        OrgModule,
        AgreementsModule,
        RequestsModule,
        ChainsModule,
        OperationsModule,
        ReportsModule,
        DashboardModule,
      ],
      providers: [
        { provide: AppConfig, useValue: config },
        options.clock ? { provide: Clock, useValue: options.clock } : Clock,
        ...(options.devMailbox ? [{ provide: DevMailbox, useValue: options.devMailbox }] : []),
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
      controllers: options.devMailbox && !config.isProduction ? [DevMailController] : [],
      exports: [AppConfig, Clock],
      global: true,
    };
  }
}
