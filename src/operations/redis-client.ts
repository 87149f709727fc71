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

/**
 * Deletes every key under a queue prefix (`<prefix>:*`), in SCAN batches; tests, the demo and the
 * benches clean up with it. Never reconnects: a Redis that is not there leaves nothing running.
 */
export async function deleteKeysUnder(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
