// Raw part: bare kafkajs. A produce (acks=all) then consume round trip at the delivery rates,
// on a topic of its own; and, when given the bulk log, how fast a plain consumer reads it.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { now } from '../lib/clock';
import { roundTrips, type RoundTripResult } from '../lib/round-trip';
import { progress, runScenario } from '../lib/scenario';
import { perSecond } from '../lib/stats';

export interface RawKafkaInput {
  readonly rates: readonly number[];
  readonly durationMs: number;
  readonly partitions: number;
  readonly bulk?: { readonly topic: string; readonly events: number };
}

export interface RawKafkaOutput {
  readonly runs: readonly RoundTripResult[];
  readonly consume?: { readonly events: number; readonly elapsedMs: number; readonly rate: number };
}

/** About the size of an encoded MessageSent event. */
const VALUE = Buffer.alloc(300, 'x');

const kafka = new Kafka({ clientId: 'bench-raw', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.ERROR });
const admin = kafka.admin();
const topic = `bench_raw_${randomUUID().slice(0, 8)}`;
const consumers: Consumer[] = [];

function consumer(): Consumer {
  const c = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024 });
  consumers.push(c);
  return c;
}

async function readAll(bulk: { topic: string; events: number }): Promise<RawKafkaOutput['consume']> {
  const c = consumer();
  const started = now();
  await c.connect();
  await c.subscribe({ topic: bulk.topic, fromBeginning: true });
  let count = 0;
  await new Promise<void>((done) => {
    void c.run({
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (count >= bulk.events) done();
      },
    });
  });
  const elapsedMs = Math.round(now() - started);
  await c.stop();
  return { events: count, elapsedMs, rate: perSecond(count, elapsedMs) };
}

runScenario<RawKafkaInput, RawKafkaOutput>(
  async (input) => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: input.partitions }], waitForLeaders: true });
    const producer = kafka.producer();
    const c = consumer();
    const trips = roundTrips();
    await Promise.all([producer.connect(), c.connect()]);
    await c.subscribe({ topic, fromBeginning: true });
    const joined = new Promise((resolve) => c.on(c.events.GROUP_JOIN, resolve));
    await c.run({ eachMessage: async ({ message }) => trips.received(message.key!.toString()) });
    await joined;
    const runs: RoundTripResult[] = [];
    for (const rate of input.rates) {
      const run = await trips.measure(rate, input.durationMs, `r${rate}`, (id) => producer.send({ topic, acks: -1, messages: [{ key: id, value: VALUE }] }));
      progress(`kafka round trip at ${rate}/s: p50 ${run.roundTrip.p50} ms, p99 ${run.roundTrip.p99} ms`);
      runs.push(run);
    }
    await producer.disconnect();
    const consume = input.bulk ? await readAll(input.bulk) : undefined;
    if (consume) progress(`kafka plain read of the bulk log: ${consume.rate} events/s`);
    return { runs, ...(consume ? { consume } : {}) };
  },
  async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  },
);
