// How fast a projection rebuilds from the start of the log into fresh storage (issue 6).
//
//   npm run bench:rebuild -- --events 200000 [--chunk 2000] [--partitions 12] [--seed 1]
//                            [--projections timeline,inbox]
//                            [--concurrency N] [--partition-batch N] [--min-partition-batch N] [--mixed-batch N] [--mixed-batch-bytes N]
//
// Creates a topic of its own holding N valid events (the bulk generator of
// @parley/event-log/testing), then rebuilds each projection, one after the other, into a fresh
// keyspace (version 1), reading the topic from the start and applying chunks as the
// projector's ProjectionRunner does. Prints events/s per projection; drops the topic and the
// keyspace at the end. Infrastructure from the usual environment variables (defaults:
// 127.0.0.1), `node scripts/infra.mjs up` first.
import { CassandraConfig, CassandraReadModelStore, createCassandraClient, dropKeyspace, ensureKeyspace } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { createKafka, KafkaConfig, KafkaEventLog, type EventBatch, type PartitionOffsets } from '@parley/event-log';
import { appendBulkEvents } from '@parley/event-log/testing';
import { InboxProjection, TimelineProjection, type Projection, type ReadModelStore, type RowMutation } from '@parley/projections';
import { uniqueName } from '@parley/testing';
import { parseArgs } from 'node:util';

const PROJECTIONS: Record<string, (store: ReadModelStore) => Projection> = {
  timeline: (store) => new TimelineProjection(store, 1),
  inbox: (store) => new InboxProjection(store, 1),
};

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    chunk: { type: 'string', default: '2000' },
    partitions: { type: 'string', default: '12' },
    seed: { type: 'string', default: '1' },
    projections: { type: 'string', default: 'timeline,inbox' },
    // The store's write batching (CassandraReadModelStore's defaults unless given).
    concurrency: { type: 'string' },
    'partition-batch': { type: 'string' },
    'min-partition-batch': { type: 'string' },
    'mixed-batch': { type: 'string' },
    'mixed-batch-bytes': { type: 'string' },
  },
});

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${JSON.stringify(value)})`);
  return n;
}

const events = positiveInt('events', args.events);
const chunkSize = positiveInt('chunk', args.chunk);
const partitions = positiveInt('partitions', args.partitions);
const seed = positiveInt('seed', args.seed);
const optionalInt = (name: string, value: string | undefined) => (value === undefined ? undefined : positiveInt(name, value));
const batching = Object.fromEntries(
  Object.entries({
    concurrency: optionalInt('concurrency', args.concurrency),
    maxPartitionBatch: optionalInt('partition-batch', args['partition-batch']),
    minPartitionBatch: optionalInt('min-partition-batch', args['min-partition-batch']),
    maxMixedBatch: optionalInt('mixed-batch', args['mixed-batch']),
    maxMixedBatchBytes: optionalInt('mixed-batch-bytes', args['mixed-batch-bytes']),
  }).filter(([, v]) => v !== undefined),
);
const projectionNames = String(args.projections).split(',').map((p) => p.trim());
for (const name of projectionNames) if (!PROJECTIONS[name]) throw new Error(`--projections: no projection ${JSON.stringify(name)} (${Object.keys(PROJECTIONS).join(', ')})`);

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');

/** Where a rebuild's time goes: what the projection waits for in storage, and how much it asks. */
class Timings {
  apply = 0;
  write = 0;
  commit = 0;
  reads = 0;
  rows = 0;
  chunks = 0;
  /** CPU time of this process (the projection, the driver, kafkajs), ms. */
  cpu = 0;

  /** The store, timed (calls of one kind do not overlap, except reads, which are only counted). */
  wrap(store: ReadModelStore): ReadModelStore {
    const timed = async <T>(field: 'write' | 'commit', run: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await run();
      } finally {
        this[field] += performance.now() - started;
      }
    };
    return {
      createTables: (tables) => store.createTables(tables),
      dropTables: (tables) => store.dropTables(tables),
      checkpoints: () => store.checkpoints(),
      writeMarks: () => store.writeMarks(),
      raiseWriteMark: (partition, offset) => store.raiseWriteMark(partition, offset),
      get: (table, key) => (this.reads++, store.get(table, key)),
      list: (table, key) => (this.reads++, store.list(table, key)),
      write: (mutations: readonly RowMutation[]) => ((this.rows += mutations.length), timed('write', () => store.write(mutations))),
      commit: (state, partition, nextOffset) => ((this.rows += state.length + 1), this.chunks++, timed('commit', () => store.commit(state, partition, nextOffset))),
    };
  }

  summary(elapsed: number): string {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return (
      `reading the log ${s(elapsed - this.apply)}, planning ${s(this.apply - this.write - this.commit)}, ` +
      `writing ${s(this.write)}, committing ${s(this.commit)}; ${this.chunks} chunks, ${this.rows} rows written, ${this.reads} reads; ` +
      `this process used ${s(this.cpu)} of CPU`
    );
  }
}

/** Applies a batch as ProjectionRunner.onBatch does: the projection's events in chunks, the last checkpointing the batch's end. */
async function applyBatch(projection: Projection, batch: EventBatch, timings: Timings): Promise<void> {
  const relevant = batch.events.filter((e) => projection.handles.has(e.event.type as never));
  for (let i = 0; i === 0 || i < relevant.length; i += chunkSize) {
    const chunk = relevant.slice(i, i + chunkSize);
    const next = relevant[i + chunkSize];
    const started = performance.now();
    await projection.apply(batch.partition, chunk, next ? next.position.offset : batch.nextOffset);
    timings.apply += performance.now() - started;
  }
}

async function rebuild(log: KafkaEventLog, projection: Projection, until: PartitionOffsets, timings: Timings): Promise<number> {
  await projection.createStorage();
  const started = performance.now();
  const cpu = process.cpuUsage();
  // For profiles (node --cpu-prof): the rebuild's window on the monotonic clock, in microseconds.
  if (process.env.BENCH_PROFILE_WINDOW) console.error(`window start ${process.hrtime.bigint() / 1000n}`);
  const consumer = await log.consume({ from: 'earliest', until }, (batch) => applyBatch(projection, batch, timings));
  await consumer.done;
  const elapsed = performance.now() - started;
  if (process.env.BENCH_PROFILE_WINDOW) console.error(`window end ${process.hrtime.bigint() / 1000n}`);
  const used = process.cpuUsage(cpu);
  timings.cpu = (used.user + used.system) / 1000;
  const checkpoints = await projection.checkpoints();
  for (const [partition, end] of until) {
    if (end !== '0' && checkpoints.get(partition) !== end) throw new Error(`${projection.name}: partition ${partition} checkpointed ${checkpoints.get(partition)}, not ${end}`);
  }
  return elapsed;
}

/** A new topic's partitions get their leaders a moment after it exists; appending before fails on a busy machine. */
async function waitForLeaders(admin: ReturnType<ReturnType<typeof createKafka>['admin']>, topic: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    if (metadata.partitions.length === partitions && metadata.partitions.every((p) => p.leader >= 0)) return;
    if (Date.now() > deadline) throw new Error(`Topic ${topic}: partitions without a leader after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const kafkaConfig = loadConfig(KafkaConfig);
  const cassandraConfig = loadConfig(CassandraConfig);
  const topic = uniqueName('bench_rebuild');
  const keyspace = uniqueName('bench_rebuild');
  const kafka = createKafka(kafkaConfig, 'bench');
  const log = new KafkaEventLog(kafka, topic, partitions);
  const cassandra = createCassandraClient(cassandraConfig);
  await Promise.all([log.connect(), cassandra.connect()]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitForLeaders(admin, topic);
    const appendStarted = performance.now();
    const summary = await appendBulkEvents(log, { events, seed });
    const appendMs = performance.now() - appendStarted;
    const mix = Object.entries(summary.byType)
      .map(([type, n]) => `${type} ${n} (${((100 * n) / summary.events).toFixed(1)}%)`)
      .join(', ');
    console.log(`log: ${summary.events} events in ${partitions} partitions, appended at ${rate(summary.events, appendMs)} events/s`);
    console.log(`mix: ${mix}; ${summary.conversations} conversations, ${summary.duplicates} duplicate sends`);
    console.log(`rebuild: chunks of ${chunkSize} events, into keyspace ${keyspace} (version 1); write batching ${JSON.stringify(batching)} (else the store's defaults)`);

    await ensureKeyspace(cassandra, keyspace, cassandraConfig.replicationFactor);
    for (const name of projectionNames) {
      const timings = new Timings();
      const projection = PROJECTIONS[name](timings.wrap(new CassandraReadModelStore(cassandra, keyspace, name, 1, batching)));
      const ms = await rebuild(log, projection, summary.endOffsets, timings);
      console.log(`${name.padEnd(8)} ${rate(summary.events, ms).padStart(8)} events/s  (${(ms / 1000).toFixed(1)} s: ${timings.summary(ms)})`);
    }
  } finally {
    await Promise.allSettled([admin.deleteTopics({ topics: [topic] }), dropKeyspace(cassandra, keyspace)]);
    await admin.disconnect();
    await log.disconnect();
    await cassandra.shutdown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
