import { Controller, Get, Injectable } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../identity/auth.decorators';
import { RedisClient } from './redis-client';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisClient,
  ) {}

  async isHealthy(key: 'redis') {
    const indicator = this.indicators.check(key);
    try {
      if (this.redis.connection.status === 'wait') await this.redis.connection.connect();
      await this.redis.connection.ping();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

/** Readiness: 200 when PostgreSQL and Redis answer, 503 when either does not. */
@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.database.pingCheck('postgres', { timeout: 2000 }), () => this.redis.isHealthy('redis')]);
  }
}
