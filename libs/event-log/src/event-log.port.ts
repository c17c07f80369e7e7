import type { ConversationEvent, LogPosition } from '@parley/domain';

/** Who and what caused an event; everything in the envelope besides the payload. */
export interface EventMetadata {
  /** Unique per event and the record key: compaction removes only records with the same id. */
  readonly eventId: string;
  readonly actorId: string;
  /** ISO-8601 UTC; also the Kafka record timestamp, so reads by time range work. */
  readonly occurredAt: string;
  readonly causationId: string;
  readonly correlationId: string;
}

export interface NewEvent {
  readonly event: ConversationEvent;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent extends NewEvent {
  readonly conversationId: string;
  readonly position: LogPosition;
  readonly schemaVersion: number;
}

/** Offsets per partition, as decimal strings (Kafka offsets are int64). */
export type PartitionOffsets = ReadonlyMap<number, string>;

export interface ConsumeOptions {
  /** Where to start (inclusive): 'earliest', 'latest', or an offset per partition. */
  readonly from: 'earliest' | 'latest' | PartitionOffsets;
  /** Stop once every partition has been read up to (exclusive) these offsets. */
  readonly until?: PartitionOffsets;
}

export interface EventBatch {
  readonly partition: number;
  readonly events: readonly RecordedEvent[];
  /** The partition's end offset when the batch was fetched, for lag. */
  readonly highWatermark: string;
  /** The offset to read next in this partition after this batch. */
  readonly nextOffset: string;
}

export interface EventConsumer {
  /** Resolves when `until` was reached or the consumer was stopped; rejects when the handler threw. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The event log: the source of truth. One conversation is one partition, so one order.
 * Implemented by Kafka (production) and in memory (unit tests); both pass one contract suite.
 */
export interface EventLog {
  readonly partitionCount: number;
  partitionFor(conversationId: string): number;
  /** Appends events of one conversation in order; resolves once they are durable, with their positions. */
  append(conversationId: string, events: readonly NewEvent[]): Promise<LogPosition[]>;
  /** The next offset to be written, per partition (the high-water mark). */
  endOffsets(): Promise<PartitionOffsets>;
  /** Per partition, the first offset whose record timestamp is >= the given time (the end offset if none). */
  offsetsForTime(timestampMs: number): Promise<PartitionOffsets>;
  /** Delivers batches in log order per partition; the next batch of a partition waits for the handler. */
  consume(options: ConsumeOptions, handler: (batch: EventBatch) => Promise<void>): Promise<EventConsumer>;
}

export const EVENT_LOG = Symbol('EVENT_LOG');

/** Appends are per conversation: one conversation is one partition, one order. */
export function assertOneConversation(conversationId: string, events: readonly NewEvent[]): void {
  for (const e of events) {
    if (e.event.data.conversationId !== conversationId) {
      throw new Error(`Event ${e.metadata.eventId} belongs to ${e.event.data.conversationId}, not ${conversationId}`);
    }
  }
}
