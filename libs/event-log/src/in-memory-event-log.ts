import type { LogPosition } from '@parley/domain';
import { EventEmitter } from 'node:events';
import { decodeEvent, encodeEvent } from './event-codec';
import {
  assertOneConversation,
  FencedError,
  type ConsumeOptions,
  type EventBatch,
  type EventConsumer,
  type EventLog,
  type NewEvent,
  type OwnershipHandler,
  type OwnershipOptions,
  type PartitionAppender,
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
export class InMemoryEventLog implements EventLog {
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
      reread: async (partition) => {
        const records = this.partitions[partition];
        const events = records.map((r, offset) => ({ ...decodeEvent(r.bytes), position: { partition, offset: String(offset) } }));
        handler.events({ partition, events, highWatermark: String(records.length), nextOffset: String(records.length) });
        handler.caughtUp(partition, BigInt(records.length));
      },
      openAppender: async (partition) => this.openAppender(partition),
      owners: async () => new Map(this.partitions.map((_, partition) => [partition, options.address])),
      stop: async () => undefined,
    };
  }

  async consume(options: ConsumeOptions, handler: (batch: EventBatch) => Promise<void>): Promise<EventConsumer> {
    const next = this.partitions.map((records, partition) =>
      options.from === 'earliest' ? 0 : options.from === 'latest' ? records.length : Number(options.from.get(partition) ?? 0),
    );
    const end = (partition: number) => (options.until ? Number(options.until.get(partition) ?? 0) : Infinity);
    let stopped = false;
    let wake: (() => void) | undefined;
    const onAppend = () => wake?.();
    this.appended.on('append', onAppend);

    const run = async () => {
      try {
        while (!stopped) {
          let delivered = false;
          for (let partition = 0; partition < this.partitionCount && !stopped; partition++) {
            const records = this.partitions[partition];
            const upTo = Math.min(records.length, end(partition));
            if (next[partition] >= upTo) continue;
            const events = records.slice(next[partition], upTo).map((r, i) => ({
              ...decodeEvent(r.bytes),
              position: { partition, offset: String(next[partition] + i) },
            }));
            next[partition] = upTo;
            await handler({ partition, events, highWatermark: String(records.length), nextOffset: String(upTo) });
            delivered = true;
          }
          if (options.until && next.every((offset, partition) => offset >= end(partition))) return;
          if (!delivered) await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        this.appended.off('append', onAppend);
      }
    };
    const done = run();
    return {
      done,
      stop: async () => {
        stopped = true;
        wake?.();
        await done.catch(() => undefined);
      },
    };
  }
}
