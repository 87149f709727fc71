import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, RedisHealthIndicator } from './health.controller';
import { MetricsController, MetricsRegistry } from './metrics';
import { RedisClient } from './redis-client';

/** Health, metrics and Redis for everything else; the HTTP latency hook is installed by createHttpApp (instrumentHttp). */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [RedisClient, RedisHealthIndicator, MetricsRegistry],
  exports: [RedisClient, MetricsRegistry],
})
export class OperationsModule {}
