export { RedisConfig } from './redis.config';
export { createRedis, type RedisClient } from './redis-client';
