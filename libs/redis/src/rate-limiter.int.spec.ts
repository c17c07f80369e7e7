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

  it('keeps counting when Redis has forgotten the script (sent by its SHA, reloaded on NOSCRIPT)', async () => {
    const limiter = new RedisRateLimiter(redis, uniqueName('ns'), 1, 2);
    const user = uniqueName('user');
    expect((await limiter.take(user)).allowed).toBe(true);
    await redis.script('FLUSH');
    expect((await limiter.take(user)).allowed).toBe(true);
    expect((await limiter.take(user)).allowed).toBe(false);
    expect(await new RedisRateLimiter(redis, uniqueName('ns'), 1, 2).take(user)).toEqual({ allowed: true, retryAfterMs: 0 }); // a second limiter on the same client
  });
});
