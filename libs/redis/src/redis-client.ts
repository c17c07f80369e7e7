import Redis from 'ioredis';
import type { RedisConfig } from './redis.config';

export type RedisClient = Redis;

/**
 * One connection per role: a connection in subscriber mode can issue no other commands. While
 * Redis is out of reach ioredis reconnects by itself; the outage is logged once, not at every
 * attempt.
 */
export function createRedis(config: RedisConfig, connectionName: string): RedisClient {
  const client = new Redis(config.url, { connectionName, maxRetriesPerRequest: 3, enableAutoPipelining: true });
  let reported = false;
  client.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    console.warn(`[redis:${connectionName}] ${err.message}; reconnecting`);
  });
  client.on('ready', () => (reported = false));
  return client;
}
