import { loadConfig } from '@parley/config';
import { uniqueName } from '@parley/testing';
import { RedisRateLimiter } from './rate-limiter';
import { createRedis } from './redis-client';
import { RedisConfig } from './redis.config';

describe('RedisRateLimiter (real Redis)', () => {
  const redis = createRedis(loadConfig(RedisConfig), 'rate-limiter-test');
  afterAll(() => redis.quit());

  it('allows the burst, then refuses with a retry hint, per key', async () => {
    const limiter = new RedisRateLimiter(redis, uniqueName('ns'), 1, 5);
    const user = uniqueName('user');
    const decisions = [];
    for (let i = 0; i < 7; i++) decisions.push(await limiter.take(user));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false]);
    expect(decisions[5].retryAfterMs).toBeGreaterThan(0);
    expect(decisions[5].retryAfterMs).toBeLessThanOrEqual(1000);
    expect((await limiter.take(uniqueName('other'))).allowed).toBe(true);
  });
});
