// Raw part: a bare ioredis pub/sub round trip at the delivery rates (one publisher, one subscriber).
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { roundTrips, type RoundTripResult } from '../lib/round-trip';
import { progress, runScenario } from '../lib/scenario';

export interface RawRedisInput {
  readonly rates: readonly number[];
  readonly durationMs: number;
}

/** About the size of a change notification carrying one message. */
const PADDING = 'x'.repeat(350);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const publisher = new Redis(url);
const subscriber = new Redis(url);

runScenario<RawRedisInput, { runs: RoundTripResult[] }>(
  async (input) => {
    const channel = `bench:raw:${randomUUID()}`;
    const trips = roundTrips();
    subscriber.on('message', (_channel: string, raw: string) => trips.received(raw.slice(0, raw.indexOf(' '))));
    await subscriber.subscribe(channel);
    const runs: RoundTripResult[] = [];
    for (const rate of input.rates) {
      const run = await trips.measure(rate, input.durationMs, `r${rate}`, (id) => publisher.publish(channel, `${id} ${PADDING}`));
      progress(`redis pub/sub round trip at ${rate}/s: p50 ${run.roundTrip.p50} ms, p99 ${run.roundTrip.p99} ms`);
      runs.push(run);
    }
    return { runs };
  },
  async () => void (await Promise.allSettled([publisher.quit(), subscriber.quit()])),
);
