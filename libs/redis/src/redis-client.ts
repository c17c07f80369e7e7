import Redis from 'ioredis';
import type { RedisConfig } from './redis.config';

export type RedisClient = Redis;

/** One connection per role: a connection in subscriber mode can issue no other commands. */
export function createRedis(config: RedisConfig, connectionName: string): RedisClient {
  return new Redis(config.url, { connectionName, maxRetriesPerRequest: 3, enableAutoPipelining: true });
}
