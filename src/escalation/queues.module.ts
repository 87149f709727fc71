import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../common/app-config';
import { QueueName } from './queues';

/** BullMQ connection options from REDIS_URL: workers need maxRetriesPerRequest null. */
export function bullConnection(redisUrl: string) {
  const url = new URL(redisUrl);
  return {
    host: url.hostname || 'localhost',
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/** Every queue, producers in every role; workers are added only where ROLE runs them. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ connection: bullConnection(config.redisUrl), prefix: config.queuePrefix }),
    }),
    BullModule.registerQueue({ name: QueueName.Deadlines }, { name: QueueName.Mail }),
  ],
  exports: [BullModule],
})
export class QueuesModule {}
