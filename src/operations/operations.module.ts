import { Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, RedisHealthIndicator } from './health.controller';
import { HttpMetricsMiddleware, MetricsController, MetricsRegistry } from './metrics';
import { RedisClient } from './redis-client';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [RedisClient, RedisHealthIndicator, MetricsRegistry],
  exports: [RedisClient, MetricsRegistry],
})
export class OperationsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*splat');
  }
}
