// Raw part: bare kafkajs. A produce (acks=all) then consume round trip at the delivery rates,
// on a topic of its own; the bare coalescing producer (what the command service's log writer
// is built on: idempotent, one request in flight, acks=all, the sends that arrive while one is
// in flight go in the next one) at the command scenario's rates, with its acknowledgement
// latency and the CPU it costs the client and the broker; and, when given the bulk log, how
// fast a plain consumer reads it.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Message, type Producer } from 'kafkajs';
import { now, sleep } from '../lib/clock';
import { cpuPercent, measureCpuTime } from '../lib/cpu';
import { openLoop } from '../lib/open-loop';
import { roundTrips, type RoundTripResult } from '../lib/round-trip';
import { progress, runScenario } from '../lib/scenario';
import { distribution, perSecond, type Distribution } from '../lib/stats';

export interface RawKafkaInput {
  readonly rates: readonly number[];
  readonly durationMs: number;
  readonly partitions: number;
  readonly bulk?: { readonly topic: string; readonly events: number };
  /** The coalescing producer: the command scenario's rates, windows and warm-ups. */
  readonly producer?: { readonly rates: readonly number[]; readonly durationMs: number; readonly warmupMs: number };
  /** The Kafka broker's process (.infra/kafka.pid), for its CPU per message. */
  readonly kafkaPid?: number;
}

/** One rate of the bare coalescing producer, over the measured window (the warm-up left out). */
export interface ProducerRun {
  readonly rate: number;
  readonly durationMs: number;
  readonly offered: number;
  /** Sends the generator started (the rest were skipped: more than 5,000 in flight). */
  readonly started: number;
  readonly acknowledged: number;
  /** Skipped + failed sends. */
  readonly errors: number;
  /** producer.send calls, and messages per call (how much coalescing there was). */
  readonly sends: number;
  readonly messagesPerSend: number;
  /** From the scheduled time to the resolution of the send that carried the message (ms). */
  readonly ack: Distribution;
  readonly generatorLateness: Distribution;
  /** The CPU window: from the first send until the last acknowledgement, ms. */
  readonly windowMs: number;
  /** The client process (process.cpuUsage: the generator and kafkajs), per acknowledged message, ms; and in % of one core. */
  readonly clientCpuMsPerMessage: number;
  readonly clientCpuPercent: number;
  /** The broker (/proc/<pid>/stat), per acknowledged message, ms; and in % of one core. Everything it did in the window counts (other clients' polls too). */
  readonly brokerCpuMsPerMessage?: number;
  readonly brokerCpuPercent?: number;
}

export interface RawKafkaOutput {
  readonly runs: readonly RoundTripResult[];
  readonly producer?: {
    readonly partitions: number;
    /** The broker's CPU with no traffic of the bench's own, measured just before (% of one core). */
    readonly brokerIdlePercent?: number;
    readonly runs: readonly ProducerRun[];
  };
  readonly consume?: { readonly events: number; readonly elapsedMs: number; readonly rate: number };
}

/** About the size of an encoded MessageSent event. */
const VALUE = Buffer.alloc(300, 'x');

const kafka = new Kafka({ clientId: 'bench-raw', brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.ERROR });
const admin = kafka.admin();
const topic = `bench_raw_${randomUUID().slice(0, 8)}`;
const producerTopic = `${topic}_producer`;
const consumers: Consumer[] = [];
/** Topics this process created, dropped at the end. */
const created: string[] = [];

/**
 * One idempotent kafkajs producer with one request in flight: a send that arrives while none
 * is in flight goes at once; the sends that arrive meanwhile are queued and all go in the next
 * single producer.send (as the command service's log writer does).
 */
class CoalescingProducer {
  private queue: Array<{ message: Message; resolve: () => void; reject: (err: unknown) => void }> = [];
  private sending = false;
  /** producer.send calls so far. */
  sends = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  send(message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (!this.sending) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.sends++;
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages: batch.map((b) => b.message) });
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.sending = false;
  }
}

/** Open-loop sends through the coalescing producer at `rate`, a 300-byte value each, round-robin over the partitions. */
async function produceAtRate(coalescing: CoalescingProducer, rate: number, durationMs: number, partitions: number, label: string, kafkaPid: number | undefined): Promise<ProducerRun> {
  const acks: number[] = [];
  let failed = 0;
  const sendsBefore = coalescing.sends;
  const broker = kafkaPid ? measureCpuTime({ kafka: kafkaPid }) : undefined;
  const started = now();
  const client = process.cpuUsage();
  const loop = await openLoop({
    rate,
    durationMs,
    maxInFlight: 5_000,
    operation: async (i, at) => {
      try {
        await coalescing.send({ key: `${label}-${i}`, value: VALUE, partition: i % partitions });
        acks.push(now() - at);
      } catch {
        failed++;
      }
    },
  });
  const clientUsage = process.cpuUsage(client);
  const windowMs = now() - started;
  const brokerTime = broker?.();
  const brokerMs = brokerTime?.cpuMs.kafka;
  const clientMs = (clientUsage.user + clientUsage.system) / 1000;
  const sends = coalescing.sends - sendsBefore;
  const perMessage = (cpuMs: number) => (acks.length ? Math.round((1000 * cpuMs) / acks.length) / 1000 : NaN);
  return {
    rate,
    durationMs,
    offered: loop.offered,
    started: loop.started,
    acknowledged: acks.length,
    errors: loop.skipped + failed,
    sends,
    messagesPerSend: Math.round((100 * loop.started) / Math.max(1, sends)) / 100,
    ack: distribution(acks),
    generatorLateness: loop.lateness,
    windowMs: Math.round(windowMs),
    clientCpuMsPerMessage: perMessage(clientMs),
    clientCpuPercent: Math.round((100 * clientMs) / windowMs),
    ...(brokerTime && brokerMs !== undefined ? { brokerCpuMsPerMessage: perMessage(brokerMs), brokerCpuPercent: cpuPercent(brokerTime).kafka } : {}),
  };
}

async function coalescingProducer(input: RawKafkaInput, options: NonNullable<RawKafkaInput['producer']>): Promise<NonNullable<RawKafkaOutput['producer']>> {
  created.push(producerTopic);
  await admin.createTopics({ topics: [{ topic: producerTopic, numPartitions: input.partitions }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const coalescing = new CoalescingProducer(producer, producerTopic);
    // The broker with no traffic of ours: what its CPU per message includes whatever the rate.
    const idle = input.kafkaPid ? measureCpuTime({ kafka: input.kafkaPid }) : undefined;
    await sleep(2_000);
    const brokerIdlePercent = idle ? cpuPercent(idle()).kafka : undefined;
    const runs: ProducerRun[] = [];
    for (const rate of options.rates) {
      // Not counted: connection set-up, metadata, the first batches at this rate.
      if (options.warmupMs > 0) await produceAtRate(coalescing, rate, options.warmupMs, input.partitions, `w${rate}`, undefined);
      const run = await produceAtRate(coalescing, rate, options.durationMs, input.partitions, `p${rate}`, input.kafkaPid);
      progress(
        `coalescing producer at ${rate}/s: ack p50 ${run.ack.p50} ms, p99 ${run.ack.p99} ms, ${run.messagesPerSend} messages per send, ` +
          `CPU per message: client ${run.clientCpuMsPerMessage} ms, broker ${run.brokerCpuMsPerMessage ?? 'n/a'} ms, ${run.errors} errors`,
      );
      runs.push(run);
    }
    return { partitions: input.partitions, ...(brokerIdlePercent !== undefined ? { brokerIdlePercent } : {}), runs };
  } finally {
    await producer.disconnect();
  }
}

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
    created.push(topic);
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
    // The round trip's clients stop here: the coalescing producer's client CPU is its own.
    await Promise.all([producer.disconnect(), c.disconnect()]);
    const coalescing = input.producer ? await coalescingProducer(input, input.producer) : undefined;
    const consume = input.bulk ? await readAll(input.bulk) : undefined;
    if (consume) progress(`kafka plain read of the bulk log: ${consume.rate} events/s`);
    return { runs, ...(coalescing ? { producer: coalescing } : {}), ...(consume ? { consume } : {}) };
  },
  async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    if (created.length) await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
  },
);
