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

/**
 * Consumers of one group share the partitions: each partition is read by one member at a time,
 * and a member joining or leaving moves partitions between them (a rebalance). Nothing is
 * committed to the log: each member says where to read its partitions from (`assigned`), so
 * positions can live with what the reader builds (docs/adr/0011).
 */
export interface ConsumerGroupOptions {
  /** The group (one per kind of reader and events topic). */
  readonly name: string;
  /**
   * A rebalance gave this member exactly these partitions (any earlier set is gone). Called once
   * no batch is being handled; batches of the new set follow once it resolves, each partition
   * from the offset it names (the partition's start for those it leaves out). Rejecting stops
   * the consumer.
   */
  assigned(partitions: readonly number[]): Promise<PartitionOffsets>;
  /**
   * Hands a read's events on this long after it returned, and reads again only then: fewer,
   * larger batches (less work per event for a reader that commits per batch), each up to this
   * much later; a quiet log is asked for more only a few times a second. Without it, a read's
   * events are handed on as soon as it returns.
   */
  readonly gatherMs?: number;
}

/**
 * Whether this member still holds the batch's partition: false once the partition may be read
 * by another member of its group (a rebalance is under way); the handler should then stop
 * applying and return.
 */
export type PartitionHeld = () => Promise<boolean>;

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
  /**
   * Delivers batches in log order per partition; the next batch of a partition waits for the
   * handler, and only that partition waits: handlers of different partitions may run at the same
   * time, and one that is slow (or waits for room) does not hold back the others. `stop()` and
   * `done` wait for the handlers still running.
   */
  consume(options: ConsumeOptions, handler: (batch: EventBatch) => Promise<void>): Promise<EventConsumer>;
  /**
   * Joins the group of writers sharing the partitions (docs/adr/0008): each partition has one
   * owner at a time, and every rebalance tells each member its partitions.
   */
  own(options: OwnershipOptions, handler: OwnershipHandler): Promise<PartitionOwnership>;
}

/** An event log whose readers can share the partitions as a consumer group (both adapters). */
export interface GroupAwareEventLog extends EventLog {
  /**
   * Joins a consumer group and reads the partitions it gives this member, each from where
   * `assigned` says, in log order; the next batch of a partition waits for the handler. Follows
   * the log until stopped; `done` rejects when the handler or `assigned` threw.
   */
  consumeInGroup(group: ConsumerGroupOptions, handler: (batch: EventBatch, held: PartitionHeld) => Promise<void>): Promise<EventConsumer>;
  /** How many consumers are members of a consumer group now (0 once every member has left or expired). */
  groupMembers(group: string): Promise<number>;
}

export interface OwnershipOptions {
  /** The group of writers (one per events topic). */
  readonly group: string;
  /** Where other members reach this one (host:port), published to the group. */
  readonly address: string;
  /**
   * How appenders are fenced (docs/adr/0008). 'lease': an appender appends only while its
   * member's group membership is fresh (a heartbeat within the lease), through the shared
   * coalescing producer; a member that missed its heartbeats long enough to lose its partitions
   * has stopped appending before another member can have them. 'transaction': one transactional
   * producer per partition, one transaction per append: the broker fences the old holder.
   */
  readonly fencing?: 'lease' | 'transaction';
}

/** Called by the ownership in order; none of them may throw. */
export interface OwnershipHandler {
  /** A rebalance gave this member exactly these partitions (any earlier set is gone). */
  assigned(partitions: readonly number[]): void;
  /** Events of a partition being read again (after `reread`), in log order; the next batch waits for a returned promise. */
  events(batch: EventBatch): void | Promise<void>;
  /** A reread partition has been read up to the end it had when the reread started. */
  caughtUp(partition: number, nextOffset: bigint): void;
}

export interface PartitionOwnership {
  /**
   * Opens an owned partition for appending; appends fail with FencedError once another appender
   * may hold the partition. With 'transaction' fencing, opening fences every appender opened
   * before it for the partition, in any process, and aborts an append of theirs under way; with
   * 'lease' fencing, an appender stops once its member's lease lapses or the partition is
   * reassigned. Open first, then `reread`: the read then sees everything the previous holder
   * could append.
   */
  openAppender(partition: number): Promise<PartitionAppender>;
  /** Reads an owned partition again from `from` (default: its start) to its end (through `events`, then `caughtUp`). */
  reread(partition: number, from?: bigint): Promise<void>;
  /** Each partition's owner, by the address it published, as the group knows it now. */
  owners(): Promise<ReadonlyMap<number, string>>;
  /** Leaves the group (its partitions go to the other members). */
  stop(): Promise<void>;
}

export const EVENT_LOG = Symbol('EVENT_LOG');

export interface PartitionAppender {
  readonly partition: number;
  /**
   * Appends events of conversations of this partition, in order: all of them or none. Positions
   * are consecutive; the next append starts `offsetsAfterAppend` offsets after the last of them
   * (room for the commit marker of a transaction).
   */
  append(events: readonly NewEvent[]): Promise<LogPosition[]>;
  readonly offsetsAfterAppend: number;
  close(): Promise<void>;
}

/** An appender's writes were refused because a newer appender was opened for its partition. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** Appends are per conversation: one conversation is one partition, one order. */
export function assertOneConversation(conversationId: string, events: readonly NewEvent[]): void {
  for (const e of events) {
    if (e.event.data.conversationId !== conversationId) {
      throw new Error(`Event ${e.metadata.eventId} belongs to ${e.event.data.conversationId}, not ${conversationId}`);
    }
  }
}
