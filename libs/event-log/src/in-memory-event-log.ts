import type { LogPosition } from '@parley/domain';
import { EventEmitter } from 'node:events';
import { decodeEvent, encodeEvent } from './event-codec';
import {
  assertOneConversation,
  FencedError,
  type ConsumeOptions,
  type ConsumerGroupOptions,
  type EventBatch,
  type EventConsumer,
  type GroupAwareEventLog,
  type NewEvent,
  type OwnershipHandler,
  type OwnershipOptions,
  type PartitionAppender,
  type PartitionHeld,
  type PartitionOffsets,
  type PartitionOwnership,
} from './event-log.port';
import { partitionForConversation } from './partitioning';

interface StoredRecord {
  readonly bytes: Uint8Array;
  readonly timestampMs: number;
}

/**
 * The event log in memory, for unit tests of code that appends or consumes. Records are
 * stored encoded, so the codec is exercised as with Kafka. Passes the same contract suite.
 */
export class InMemoryEventLog implements GroupAwareEventLog {
  private readonly partitions: StoredRecord[][];
  private readonly appended = new EventEmitter().setMaxListeners(0);

  constructor(readonly partitionCount = 4) {
    this.partitions = Array.from({ length: partitionCount }, () => []);
  }

  partitionFor(conversationId: string): number {
    return partitionForConversation(conversationId, this.partitionCount);
  }

  async append(conversationId: string, events: readonly NewEvent[]): Promise<LogPosition[]> {
    assertOneConversation(conversationId, events);
    return this.appendToPartition(this.partitionFor(conversationId), events);
  }

  async appendToPartition(partition: number, events: readonly NewEvent[]): Promise<LogPosition[]> {
    for (const e of events) {
      if (this.partitionFor(e.event.data.conversationId) !== partition) throw new Error(`Event ${e.metadata.eventId} does not belong in partition ${partition}`);
    }
    const records = this.partitions[partition];
    const positions = events.map((e) => {
      records.push({ bytes: encodeEvent(e), timestampMs: Date.parse(e.metadata.occurredAt) });
      return { partition, offset: String(records.length - 1) };
    });
    this.appended.emit('append');
    return positions;
  }

  private readonly epochs = new Map<number, number>();

  /** An appender that fails with FencedError once a newer one was opened for its partition. */
  openAppender(partition: number): PartitionAppender {
    const epoch = (this.epochs.get(partition) ?? 0) + 1;
    this.epochs.set(partition, epoch);
    return {
      partition,
      offsetsAfterAppend: 0,
      append: async (events) => {
        if (this.epochs.get(partition) !== epoch) throw new FencedError(`partition ${partition}: a newer appender was opened`);
        return this.appendToPartition(partition, events);
      },
      close: async () => undefined,
    };
  }

  async endOffsets(): Promise<PartitionOffsets> {
    return new Map(this.partitions.map((records, partition) => [partition, String(records.length)]));
  }

  async offsetsForTime(timestampMs: number): Promise<PartitionOffsets> {
    return new Map(
      this.partitions.map((records, partition) => {
        const index = records.findIndex((r) => r.timestampMs >= timestampMs);
        return [partition, String(index === -1 ? records.length : index)];
      }),
    );
  }

  /** A group of one: this member owns every partition; a reread delivers the partition at once. */
  async own(options: OwnershipOptions, handler: OwnershipHandler): Promise<PartitionOwnership> {
    queueMicrotask(() => handler.assigned(this.partitions.map((_, partition) => partition)));
    return {
      reread: async (partition, from = 0n) => {
        const records = this.partitions[partition];
        const events = records
          .map((r, offset) => ({ ...decodeEvent(r.bytes), position: { partition, offset: String(offset) } }))
          .filter((e) => BigInt(e.position.offset) >= from);
        await handler.events({ partition, events, highWatermark: String(records.length), nextOffset: String(records.length) });
        handler.caughtUp(partition, BigInt(records.length));
      },
      openAppender: async (partition) => this.openAppender(partition),
      owners: async () => new Map(this.partitions.map((_, partition) => [partition, options.address])),
      stop: async () => undefined,
    };
  }

  /** Consumers per group, in joining order (a partition goes to member `partition % members`). */
  private readonly groups = new Map<string, MemoryConsumer[]>();
  /** Per group, the rebalance under way: rebalances of one group run one after another. */
  private readonly rebalances = new Map<string, Promise<void>>();

  async groupMembers(group: string): Promise<number> {
    return this.groups.get(group)?.length ?? 0;
  }

  consume(options: ConsumeOptions, handler: (batch: EventBatch) => Promise<void>): Promise<EventConsumer> {
    return this.read(options, undefined, handler);
  }

  consumeInGroup(group: ConsumerGroupOptions, handler: (batch: EventBatch, held: PartitionHeld) => Promise<void>): Promise<EventConsumer> {
    return this.read({ from: 'earliest' }, group, handler);
  }

  private async read(
    options: ConsumeOptions,
    group: ConsumerGroupOptions | undefined,
    handler: (batch: EventBatch, held: PartitionHeld) => Promise<void>,
  ): Promise<EventConsumer> {
    const from = (partition: number) =>
      options.from === 'earliest' ? 0 : options.from === 'latest' ? this.partitions[partition].length : Number(options.from.get(partition) ?? 0);
    const consumer: MemoryConsumer = new MemoryConsumer(this.partitions, from, options.until, handler, () => this.leave(consumer));
    this.appended.on('append', consumer.wake);
    if (group) {
      consumer.group = group;
      this.groups.set(group.name, [...(this.groups.get(group.name) ?? []), consumer]);
      await this.rebalance(group.name);
    } else {
      consumer.hold(this.partitions.map((_, partition) => partition));
    }
    void consumer.done.finally(() => this.appended.off('append', consumer.wake)).catch(() => undefined);
    return consumer;
  }

  private async leave(consumer: MemoryConsumer): Promise<void> {
    if (!consumer.group) return;
    const name = consumer.group.name;
    this.groups.set(name, (this.groups.get(name) ?? []).filter((c) => c !== consumer));
    await this.rebalance(name);
  }

  /** As Kafka's: every member stops between batches, then each is told its share (round robin). */
  private rebalance(name: string): Promise<void> {
    const run = async () => {
      const members = this.groups.get(name) ?? [];
      await Promise.all(members.map((m) => m.release()));
      await Promise.all(
        members.map(async (member, i) => {
          const partitions = this.partitions.map((_, p) => p).filter((p) => p % members.length === i);
          try {
            member.hold(partitions, await member.group!.assigned(partitions));
          } catch (err) {
            void member.fail(err);
          }
        }),
      );
    };
    const next = (this.rebalances.get(name) ?? Promise.resolve()).then(run);
    this.rebalances.set(name, next);
    return next;
  }
}

/** One consumer of the in-memory log: reads the partitions it holds, one batch at a time. */
class MemoryConsumer implements EventConsumer {
  group?: ConsumerGroupOptions;
  readonly done: Promise<void>;
  private readonly next = new Map<number, number>();
  private held = new Set<number>();
  private generation = 0;
  private stopped = false;
  private failure: unknown;
  private delivering: Promise<void> = Promise.resolve();
  /** A plain read's partitions whose handler is running: only they wait. */
  private readonly handling = new Map<number, Promise<void>>();
  private sleeping?: () => void;

  constructor(
    private readonly partitions: readonly StoredRecord[][],
    private readonly from: (partition: number) => number,
    private readonly until: PartitionOffsets | undefined,
    private readonly handler: (batch: EventBatch, held: PartitionHeld) => Promise<void>,
    private readonly onStop: () => Promise<void>,
  ) {
    this.done = this.run();
  }

  readonly wake = (): void => this.sleeping?.();

  /** Takes these partitions (reading each from `from`, or where the consumer started). */
  hold(partitions: readonly number[], from: PartitionOffsets = new Map()): void {
    this.generation++;
    this.held = new Set(partitions);
    this.next.clear();
    for (const p of partitions) this.next.set(p, from.has(p) ? Number(from.get(p)) : this.from(p));
    this.wake();
  }

  /** Gives every partition up, once the batch being handled is done. */
  async release(): Promise<void> {
    this.generation++;
    this.held = new Set();
    await this.delivering;
  }

  async fail(err: unknown): Promise<void> {
    this.failure ??= err;
    await this.stop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    await this.done.catch(() => undefined);
    await this.onStop();
  }

  private end(partition: number): number {
    return this.until ? Number(this.until.get(partition) ?? 0) : Infinity;
  }

  private async run(): Promise<void> {
    await Promise.resolve(); // let the constructor finish
    while (!this.stopped) {
      let delivered = false;
      for (const partition of [...this.held].sort((a, b) => a - b)) {
        if (this.stopped || !this.held.has(partition) || this.handling.has(partition)) continue;
        const records = this.partitions[partition];
        const start = this.next.get(partition)!;
        const upTo = Math.min(records.length, this.end(partition));
        if (start >= upTo) continue;
        const events = records.slice(start, upTo).map((r, i) => ({ ...decodeEvent(r.bytes), position: { partition, offset: String(start + i) } }));
        this.next.set(partition, upTo);
        const generation = this.generation;
        const held: PartitionHeld = async () => !this.stopped && this.generation === generation;
        const batch = { partition, events, highWatermark: String(records.length), nextOffset: String(upTo) };
        delivered = true;
        if (!this.group) {
          // As Kafka's plain reads: only this partition waits for its handler.
          const handling = this.handler(batch, held).then(
            () => undefined,
            (err: unknown) => {
              this.failure ??= err;
              void this.stop();
            },
          );
          this.handling.set(partition, handling);
          void handling.finally(() => {
            this.handling.delete(partition);
            this.wake();
          });
          continue;
        }
        this.delivering = this.handler(batch, held);
        try {
          await this.delivering;
        } catch (err) {
          this.failure ??= err;
          void this.stop();
          break;
        } finally {
          this.delivering = Promise.resolve();
        }
      }
      if (this.until && this.partitions.every((_, p) => (this.next.get(p) ?? this.from(p)) >= this.end(p))) break;
      if (!delivered && !this.stopped) await new Promise<void>((resolve) => (this.sleeping = resolve));
    }
    await Promise.all(this.handling.values());
    if (this.failure) throw this.failure;
  }
}
