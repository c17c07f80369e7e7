// The command service's memory against the size of the log it has read: for each shape of
// traffic, one log (a topic of its own) grown by the bulk writer's generator to each size in
// turn; at each size one command service from dist reads it (as every instance does at start:
// it holds the state of each conversation of its partitions) and its RSS is read from /proc.
// No traffic: the process holds only what reading the log left in it.
import { loadConfig } from '@parley/config';
import { createKafka, KafkaConfig, KafkaEventLog } from '@parley/event-log';
import { generateBulkEvents, type BulkStep } from '@parley/event-log/testing';
import { freePort, uniqueName } from '@parley/testing';
import { readFile } from 'node:fs/promises';
import { now, sleep } from '../lib/clock';
import { cpuSeconds } from '../lib/cpu';
import { collectGarbage, type HeapUsage } from '../lib/inspector';
import type { CommandMemoryShape } from '../lib/plan';
import { memoryStatus, type MemoryStatus } from '../lib/rss';
import { progress, runScenario } from '../lib/scenario';
import { perSecond } from '../lib/stats';
import { appLogFile, dropResources, startApp, stopApps, type AppProcess } from '../lib/system';

export interface CommandMemoryInput {
  readonly env: Record<string, string>;
  readonly partitions: number;
  /** Log sizes (events), ascending: the same log measured at each. */
  readonly sizes: readonly number[];
  readonly shapes: readonly CommandMemoryShape[];
}

/** One command service that read the whole log, then idled. */
export interface MemoryReading {
  /** Events in the log (the size, give or take the last append of a conversation). */
  readonly events: number;
  /** Conversations created in the log. */
  readonly conversations: number;
  /** Conversations the service reported holding (GET /health/ready). */
  readonly serviceConversations: number | null;
  /** From spawning the process until /health/ready answered 200 (start-up, joining the writers' group and reading every partition). */
  readonly readyMs: number;
  /** The service's own figure: from its first assignment until every partition was read (its log line), if found. */
  readonly serviceReadMs: number | null;
  /** CPU time (user + system) the process had used when ready. */
  readonly cpuMsToReady: number;
  /** VmRSS / VmHWM right after ready. */
  readonly atReady: MemoryStatus;
  /** VmRSS of the three readings 2 s apart after that. */
  readonly rssReadingsBytes: readonly number[];
  /** The figure: the lowest of the three readings (no GC can be asked for from outside). */
  readonly rssBytes: number;
  /** VmHWM at the last reading: the peak while reading the log. */
  readonly hwmBytes: number;
  /**
   * After those readings, a full GC asked for through the inspector (the process runs with
   * --inspect on 127.0.0.1): VmRSS then and the process's own memoryUsage(); null if it failed.
   * What the state really holds, without the garbage the read left.
   */
  readonly afterGc: { readonly rssBytes: number; readonly usage: HeapUsage } | null;
  /** After the readings: how long until its checkpoint held everything it read (null: not waited for, or never). */
  readonly checkpointMs?: number | null;
}

export interface CommandMemoryShapeResult {
  readonly shape: CommandMemoryShape;
  /** Per size: a service reading the log (from the checkpoint of the previous size's, if any), then one restarted from its checkpoint. */
  readonly runs: ReadonlyArray<MemoryReading & { readonly appendMs: number; readonly appendRate: number; readonly restart: MemoryReading }>;
}

export interface CommandMemoryOutput {
  readonly partitions: number;
  /** A command service on an empty log of the same partitions: the fixed cost of the process. */
  readonly emptyLog: MemoryReading;
  readonly shapes: readonly CommandMemoryShapeResult[];
}

const READINGS = 3;
const READING_INTERVAL_MS = 2_000;

const topics: string[] = [];
let running: AppProcess | undefined;
let env: Record<string, string> = {};

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Starts one command service on the topic, waits until it has read it, reads its memory, stops it. */
async function measure(topic: string, partitions: number, events: number, conversations: number, label: string, untilCheckpointed = false): Promise<MemoryReading> {
  const [grpcPort, httpPort, inspectPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const appEnv: Record<string, string> = {
    ...env,
    EVENTS_TOPIC: topic,
    EVENTS_TOPIC_PARTITIONS: String(partitions),
    // Connected on first use only (messages older than a state keeps): never, without commands.
    CASSANDRA_KEYSPACE: topic,
    COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${grpcPort}`,
    COMMAND_SERVICE_HTTP_PORT: String(httpPort),
    // Its "N conversations read in X ms" line is logged at info.
    LOG_LEVEL: 'info',
    // A checkpoint soon after the read, for the restart to read from (docs/adr/0016).
    COMMAND_CHECKPOINT_INTERVAL_MS: '1000',
    // For the full GC after the readings (nothing else uses it).
    NODE_OPTIONS: [env.NODE_OPTIONS, `--inspect=127.0.0.1:${inspectPort}`].filter(Boolean).join(' '),
  };
  const name = `command-memory-${label}`;
  const started = now();
  // A generous bound: reading is expected at tens of thousands of events per second.
  running = await startApp('command-service', appEnv, httpPort, name, Math.max(90_000, events * 0.5));
  const readyMs = Math.round(now() - started);
  const pid = running.child.pid!;
  const atReady = await memoryStatus(pid);
  const cpuMsToReady = Math.round(cpuSeconds(pid) * 1000);
  const health = (await (await fetch(`http://127.0.0.1:${httpPort}/health/ready`)).json().catch(() => ({}))) as { details?: { eventLog?: { conversations?: number } } };
  const rssReadingsBytes: number[] = [];
  let last = atReady;
  for (let i = 0; i < READINGS; i++) {
    await sleep(READING_INTERVAL_MS);
    last = await memoryStatus(pid);
    rssReadingsBytes.push(last.rssBytes);
  }
  const afterGc = await collectGarbage(inspectPort)
    .then(async (usage) => ({ rssBytes: (await memoryStatus(pid)).rssBytes, usage }))
    .catch((err: unknown) => {
      progress(`${label}: no full GC through the inspector: ${(err as Error).message}`);
      return null;
    });
  const checkpointMs = untilCheckpointed ? await checkpointed(httpPort, label) : null;
  await stopApps([running]);
  running = undefined;
  const logText = await readFile(appLogFile(name, httpPort), 'utf8').catch(() => '');
  const read = /conversations read in (\d+) ms/.exec(logText);
  const reading: MemoryReading = {
    events,
    conversations,
    serviceConversations: health.details?.eventLog?.conversations ?? null,
    readyMs,
    serviceReadMs: read ? Number(read[1]) : null,
    cpuMsToReady,
    atReady,
    rssReadingsBytes,
    rssBytes: Math.min(...rssReadingsBytes),
    hwmBytes: last.hwmBytes,
    afterGc,
    checkpointMs,
  };
  progress(
    `${label}: ${events.toLocaleString('en-US')} events, ${conversations.toLocaleString('en-US')} conversations (service: ${reading.serviceConversations ?? '?'}): ` +
      `ready in ${(readyMs / 1000).toFixed(1)} s (service read ${reading.serviceReadMs ?? '?'} ms, CPU ${cpuMsToReady} ms), ` +
      `RSS ${mib(atReady.rssBytes)} at ready, lowest of ${READINGS} ${mib(reading.rssBytes)}, HWM ${mib(reading.hwmBytes)}` +
      (afterGc ? `; after a full GC RSS ${mib(afterGc.rssBytes)}, heap used ${mib(afterGc.usage.heapUsed)}, external ${mib(afterGc.usage.external)}` : ''),
  );
  return reading;
}

/** Waits until the service's checkpoints hold everything it read (GET /health/ready says so); how long that took, or null. */
async function checkpointed(httpPort: number, label: string): Promise<number | null> {
  const started = now();
  while (now() - started < 300_000) {
    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/health/ready`)).json().catch(() => ({}))) as { details?: { eventLog?: { checkpointed?: boolean } } };
    if (health.details?.eventLog?.checkpointed) return Math.round(now() - started);
    await sleep(250);
  }
  progress(`${label}: no checkpoint within 300 s`);
  return null;
}

/**
 * Appends the generator's steps to the log until `target` events are in it, as
 * appendBulkEvents does (many conversations' appends per request, bounded per partition below
 * the broker's record-batch limit, one request in flight), but resumable: the same generator
 * goes on from where it stopped, so the log grows with the same conversations.
 */
class GrowingLog {
  private queued = 0;
  private appended = 0;
  conversations = 0;

  constructor(
    private readonly log: KafkaEventLog,
    private readonly steps: Generator<BulkStep>,
  ) {}

  get events(): number {
    return this.appended;
  }

  async growTo(target: number): Promise<void> {
    let inFlight: Promise<unknown> = Promise.resolve();
    let reported = this.appended;
    while (this.queued < target) {
      const request: BulkStep[] = [];
      const perPartition = new Map<number, number>();
      let size = 0;
      while (this.queued < target) {
        const next = this.steps.next();
        if (next.done) break;
        const step = next.value;
        request.push(step);
        this.queued += step.events.length;
        size += step.events.length;
        for (const { event } of step.events) if (event.type === 'ConversationCreated') this.conversations++;
        const partition = step.positions[0].partition;
        const inPartition = (perPartition.get(partition) ?? 0) + step.events.length;
        perPartition.set(partition, inPartition);
        if (size >= 20_000 || inPartition >= 2_000) break;
      }
      if (request.length === 0) break;
      await inFlight;
      inFlight = Promise.all(request.map((step) => this.log.append(step.conversationId, step.events).then(check(step)))).then(() => {
        this.appended += size;
        if (this.appended - reported >= 200_000) progress(`  log: ${(reported = this.appended).toLocaleString('en-US')} events`);
      });
    }
    await inFlight;
  }
}

/** The log must put every event where the generator predicted (nobody else writes the topic). */
const check = (step: BulkStep) => (positions: ReadonlyArray<{ partition: number; offset: string }>) => {
  positions.forEach((position, i) => {
    const expected = step.positions[i];
    if (position.partition !== expected.partition || position.offset !== expected.offset) {
      throw new Error(`${step.conversationId}: the log put an event at ${position.partition}/${position.offset}, not at ${expected.partition}/${expected.offset}`);
    }
  });
};

async function withLog<T>(topic: string, partitions: number, use: (log: KafkaEventLog, topic: string) => Promise<T>): Promise<T> {
  topics.push(topic);
  const log = new KafkaEventLog(createKafka(loadConfig(KafkaConfig, env), 'bench-command-memory'), topic, partitions);
  await log.connect(); // creates the topic
  try {
    return await use(log, topic);
  } finally {
    await log.disconnect();
  }
}

async function cleanup(): Promise<void> {
  if (running) await stopApps([running]);
  running = undefined;
  if (topics.length === 0) return;
  await dropResources(env, { topics });
  // The writers' groups the services joined (`<topic>.writers`), best effort.
  const admin = createKafka(loadConfig(KafkaConfig, env), 'bench-command-memory-cleanup').admin();
  try {
    await admin.connect();
    await admin.deleteGroups(topics.map((t) => `${t}.writers`));
  } catch {
    // a group that is not there, or already empty and gone
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

runScenario<CommandMemoryInput, CommandMemoryOutput>(async (input) => {
  env = input.env;
  const { partitions } = input;
  const sizes = [...input.sizes].sort((a, b) => a - b);

  progress('empty log');
  const emptyLog = await withLog(uniqueName('bench_mem_empty'), partitions, (_log, topic) => measure(topic, partitions, 0, 0, 'empty'));

  const shapes: CommandMemoryShapeResult[] = [];
  for (const shape of input.shapes) {
    progress(`${shape.name}: ${shape.activeConversations} active conversations, ${shape.meanConversationEvents.toLocaleString('en-US')} events each on average`);
    const runs = await withLog(uniqueName('bench_mem'), partitions, async (log, topic) => {
      const steps = generateBulkEvents({
        events: sizes[sizes.length - 1],
        partitionCount: partitions,
        partitionFor: (id) => log.partitionFor(id),
        startOffsets: await log.endOffsets(),
        seed: 1,
        activeConversations: shape.activeConversations,
        meanConversationEvents: shape.meanConversationEvents,
        ...(shape.groupShare !== undefined ? { groupShare: shape.groupShare } : {}),
      });
      const growing = new GrowingLog(log, steps);
      const out: CommandMemoryShapeResult['runs'][number][] = [];
      for (const size of sizes) {
        const started = now();
        const before = growing.events;
        await growing.growTo(size);
        const appendMs = Math.round(now() - started);
        const label = `${shape.name.replace(/\W+/g, '-')}-${size}`;
        const reading = await measure(topic, partitions, growing.events, growing.conversations, label, true);
        const restart = await measure(topic, partitions, growing.events, growing.conversations, `${label}-restart`);
        out.push({ ...reading, appendMs, appendRate: perSecond(growing.events - before, appendMs), restart });
      }
      return out;
    });
    shapes.push({ shape, runs });
  }
  return { partitions, emptyLog, shapes };
}, cleanup);
