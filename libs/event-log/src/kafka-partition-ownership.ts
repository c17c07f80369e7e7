import type { LogPosition } from '@parley/domain';
import { AssignerProtocol, PartitionAssigners, type Admin, type Assigner, type Batch, type Consumer, type Kafka, type Producer } from 'kafkajs';
import {
  FencedError,
  type NewEvent,
  type OwnershipHandler,
  type OwnershipOptions,
  type PartitionAppender,
  type PartitionOwnership,
} from './event-log.port';
import { fromMessage, toMessage } from './kafka-message';
import { topicOffsets } from './kafka-client';

const PROTOCOL = 'ParleyWriters';
/** The broker's minimum session timeout: a dead member's partitions move within ~6 s. */
export const SESSION_TIMEOUT_MS = 6_000;
export const HEARTBEAT_INTERVAL_MS = 1_000;

/** The offset a batch was fetched from: a batch fetched before a seek applied does not start at the seek. (kafkajs's Batch has it, its typings do not.) */
export const fetchedOffset = (batch: Batch): string => (batch as unknown as { fetchedOffset: string }).fetchedOffset;
/** A member stops appending this long before the group may give its partitions away. */
const LEASE_MARGIN_MS = 2_000;

/** The event log's shared coalescing producer (one request in flight, all partitions). */
export type SharedAppend = (partition: number, events: readonly NewEvent[], guard: () => Error | undefined) => Promise<LogPosition[]>;

/**
 * Kafka's round-robin assignment, with each member's address in its subscription metadata so
 * that any member (or tool) can read from the group who owns which partition.
 */
function addressAwareRoundRobin(address: string) {
  return (config: Parameters<typeof PartitionAssigners.roundRobin>[0]): Assigner => {
    const roundRobin = PartitionAssigners.roundRobin(config);
    return {
      name: PROTOCOL,
      version: 1,
      assign: (group) => roundRobin.assign(group),
      protocol: ({ topics }) => ({
        name: PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(address) }),
      }),
    };
  };
}

interface Reread {
  readonly start: string;
  readonly end: bigint;
  started: boolean;
}

/**
 * Partition ownership as a Kafka consumer group over the events topic (docs/adr/0008). The
 * group's consumer fetches only partitions being reread: every partition is paused at each
 * rebalance and resumed by `reread`, which seeks it to its first offset and reads it up to the
 * end it had then; nothing is committed.
 */
export class KafkaPartitionOwnership implements PartitionOwnership {
  private readonly rereads = new Map<number, Reread>();
  private assigned = new Set<number>();
  private stopped = false;
  /** When the group last confirmed this member (join or heartbeat). */
  private confirmedAt = 0;

  private constructor(
    private readonly kafka: Kafka,
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    private readonly topic: string,
    private readonly group: string,
    private readonly handler: OwnershipHandler,
    private readonly fencing: 'lease' | 'transaction',
    private readonly append: SharedAppend,
  ) {}

  static async join(
    kafka: Kafka,
    topic: string,
    options: OwnershipOptions,
    handler: OwnershipHandler,
    append: SharedAppend,
  ): Promise<KafkaPartitionOwnership> {
    const consumer = kafka.consumer({
      groupId: options.group,
      partitionAssigners: [addressAwareRoundRobin(options.address)],
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: 10_000,
      // Partitions are paused except while being read: the loop then mostly sleeps this long.
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const admin = kafka.admin();
    const ownership = new KafkaPartitionOwnership(kafka, consumer, admin, topic, options.group, handler, options.fencing ?? 'lease', append);
    await Promise.all([consumer.connect(), admin.connect()]);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => ownership.onJoin(payload.memberAssignment[topic] ?? []));
    consumer.on(consumer.events.HEARTBEAT, () => (ownership.confirmedAt = Date.now()));
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => ownership.readThrough(payload.partition, BigInt(payload.lastOffset)));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale }) => {
        const reread = ownership.rereads.get(batch.partition);
        if (!reread || isStale()) return;
        // Batches fetched before the seek applied are not part of this reread.
        if (!reread.started && fetchedOffset(batch) !== reread.start) return;
        reread.started = true;
        const events = batch.messages.map((m) => fromMessage(topic, batch.partition, m)).filter((e) => e !== undefined);
        await handler.events({ partition: batch.partition, events, highWatermark: batch.highWatermark, nextOffset: (BigInt(batch.lastOffset()) + 1n).toString() });
      },
    });
    return ownership;
  }

  private onJoin(partitions: readonly number[]): void {
    this.confirmedAt = Date.now();
    this.assigned = new Set(partitions);
    this.rereads.clear();
    this.consumer.pause([{ topic: this.topic }]);
    this.handler.assigned([...partitions].sort((a, b) => a - b));
  }

  openAppender(partition: number): Promise<PartitionAppender> {
    if (this.stopped) return Promise.reject(new Error('the ownership was stopped'));
    if (this.fencing === 'transaction') return KafkaTransactionalAppender.open(this.kafka, this.topic, partition, `${this.group}.p${partition}`);
    return Promise.resolve(new LeasedAppender(partition, this.append, () => this.holds(partition)));
  }

  /**
   * Whether this member may still append to the partition: it is assigned, and the group
   * confirmed the membership within the lease. The group gives a silent member's partitions
   * away only after the session timeout; the lease ends LEASE_MARGIN_MS before that.
   */
  private holds(partition: number): boolean {
    return this.assigned.has(partition) && Date.now() - this.confirmedAt < SESSION_TIMEOUT_MS - LEASE_MARGIN_MS;
  }

  async reread(partition: number, from = 0n): Promise<void> {
    if (this.stopped) throw new Error('the ownership was stopped'); // kafkajs's admin would reconnect
    const offsets = await topicOffsets(this.admin, this.topic);
    const { low, high } = offsets.find((o) => o.partition === partition)!;
    const start = BigInt(low) > from ? BigInt(low) : from;
    if (BigInt(high) <= start) {
      this.handler.caughtUp(partition, BigInt(high));
      return;
    }
    this.rereads.set(partition, { start: String(start), end: BigInt(high), started: false });
    this.consumer.seek({ topic: this.topic, partition, offset: String(start) });
    this.consumer.resume([{ topic: this.topic, partitions: [partition] }]);
  }

  /** After every batch (also those holding only control records or compacted gaps). */
  private readThrough(partition: number, lastOffset: bigint): void {
    const reread = this.rereads.get(partition);
    if (!reread?.started || lastOffset + 1n < reread.end) return;
    this.rereads.delete(partition);
    this.consumer.pause([{ topic: this.topic, partitions: [partition] }]);
    this.handler.caughtUp(partition, lastOffset + 1n);
  }

  async owners(): Promise<ReadonlyMap<number, string>> {
    if (this.stopped) throw new Error('the ownership was stopped');
    const { groups } = await this.admin.describeGroups([this.group]);
    const owners = new Map<number, string>();
    for (const member of groups[0]?.members ?? []) {
      if (member.memberMetadata.length === 0 || member.memberAssignment.length === 0) continue;
      const address = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.userData.toString();
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[this.topic] ?? [];
      if (address) for (const partition of assignment) owners.set(partition, address);
    }
    return owners;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.consumer.disconnect(), this.admin.disconnect()]);
  }
}

const FENCING_ERRORS = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

function isFencing(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown; originalError?: unknown } | undefined; e; e = (e.cause ?? e.originalError) as typeof e) {
    if (e.type && FENCING_ERRORS.has(e.type)) return true;
    if (/fenced|producer epoch/i.test(String((e as Error).message))) return true;
  }
  return false;
}

/** Appends through the shared producer while the member holds the partition's lease. */
class LeasedAppender implements PartitionAppender {
  readonly offsetsAfterAppend = 0;

  constructor(
    readonly partition: number,
    private readonly shared: SharedAppend,
    private readonly holds: () => boolean,
  ) {}

  append(events: readonly NewEvent[]): Promise<LogPosition[]> {
    const refused = this.refusal();
    return refused ? Promise.reject(refused) : this.shared(this.partition, events, this.refusal);
  }

  /** Checked when appending and again right before the produce request goes out. */
  private readonly refusal = (): Error | undefined =>
    this.holds() ? undefined : new FencedError(`partition ${this.partition}: this instance's lease on it lapsed (no heartbeat for too long, or reassigned)`);

  async close(): Promise<void> {}
}

/**
 * One transactional producer per partition, its transactional.id naming the partition: opening
 * one (InitProducerId) bumps the id's epoch, aborts a transaction the previous holder left open
 * and fences that holder's producer for good. Each append is one transaction (docs/adr/0008).
 */
class KafkaTransactionalAppender implements PartitionAppender {
  readonly offsetsAfterAppend = 1; // the commit marker

  private constructor(
    readonly partition: number,
    private readonly topic: string,
    private readonly producer: Producer,
  ) {}

  static async open(kafka: Kafka, topic: string, partition: number, transactionalId: string): Promise<KafkaTransactionalAppender> {
    const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 10_000, allowAutoTopicCreation: false });
    try {
      await producer.connect();
      await (await producer.transaction()).abort(); // InitProducerId with the transactional id: the fencing
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    return new KafkaTransactionalAppender(partition, topic, producer);
  }

  async append(events: readonly NewEvent[]): Promise<LogPosition[]> {
    if (events.length === 0) return [];
    const transaction = await this.producer.transaction();
    try {
      const [result] = await transaction.send({ topic: this.topic, acks: -1, messages: events.map((e) => toMessage(e, this.partition)) });
      await transaction.commit();
      const base = BigInt(result.baseOffset ?? '0');
      return events.map((_, i) => ({ partition: this.partition, offset: (base + BigInt(i)).toString() }));
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      if (isFencing(err)) throw new FencedError(`partition ${this.partition}: a newer writer took it over (${(err as Error).message})`);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
