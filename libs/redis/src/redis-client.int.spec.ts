import { loadConfig } from '@parley/config';
import { uniqueName, waitFor } from '@parley/testing';
import { createRedis, type RedisClient } from './redis-client';
import { RedisConfig } from './redis.config';

describe('Redis on loopback (real server)', () => {
  const config = loadConfig(RedisConfig);
  let commands: RedisClient;
  let subscriber: RedisClient;

  beforeAll(() => {
    commands = createRedis(config, 'int-commands');
    subscriber = createRedis(config, 'int-subscriber');
  });

  afterAll(async () => {
    await Promise.all([commands.quit(), subscriber.quit()]);
  });

  it('round-trips a key with an expiry', async () => {
    const key = uniqueName('it_key');
    await commands.set(key, 'value', 'PX', 60_000);
    expect(await commands.get(key)).toBe('value');
    expect(await commands.pttl(key)).toBeGreaterThan(0);
    await commands.del(key);
    expect(await commands.get(key)).toBeNull();
  });

  it('delivers a published message to a subscriber of the channel', async () => {
    const channel = uniqueName('it_channel');
    const received: string[] = [];
    subscriber.on('message', (ch, message) => {
      if (ch === channel) received.push(message);
    });
    await subscriber.subscribe(channel);
    await commands.publish(channel, 'hello');
    await waitFor('the published message', () => received.length > 0);
    expect(received).toEqual(['hello']);
  });
});
