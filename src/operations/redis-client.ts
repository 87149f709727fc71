import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../common/app-config';
import { redisUnreachableMessage, StartupError } from '../database/connection-errors';

/** The process's plain Redis connection (health checks now; the queues bring their own). */
@Injectable()
export class RedisClient implements OnApplicationShutdown {
  readonly connection: Redis;

  constructor(config: AppConfig) {
    this.connection = new Redis(config.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 3000,
      // Fail fast while disconnected, so /health answers 503 at once instead of hanging.
      enableOfflineQueue: false,
    });
    this.connection.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    this.connection.disconnect();
  }
}

/** Start-up check: one clear line when Redis is not there. */
export async function checkRedisReachable(redisUrl: string): Promise<void> {
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  let lastError: unknown;
  probe.on('error', (error) => (lastError = error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new StartupError(redisUnreachableMessage(redisUrl, lastError ?? error));
  } finally {
    probe.disconnect();
  }
}
