import { CONVERSATION_EVENT_TYPES, isConversationEventType, isConversationId } from '@parley/domain';
import type { ConsumeOptions, EventBatch, EventConsumer, EventLog, PartitionOffsets, RecordedEvent } from './event-log.port';
import { toEventRecord, type EventRecord } from './event-record';

/**
 * A read query the caller got wrong: `field` names the offending input, so an edge can answer
 * BAD_USER_INPUT (GraphQL) or a usage error (CLI) with the message as it is.
 */
export class EventsQueryError extends Error {
  readonly code = 'EVENTS.INVALID_QUERY' as const;
  readonly kind = 'BAD_USER_INPUT' as const;

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventsQueryError';
  }
}

// ---------------------------------------------------------------------------------------------
// Resume points

/** Where a read can resume: the next offset to read in every partition of the log. */
export type EventsPosition = PartitionOffsets;

const POSITION_VERSION = 'ep1';
const MAX_OFFSET = 2n ** 63n - 1n;
const MAX_POSITION_LENGTH = 32_000; // 1,000 partitions of 19-digit offsets, base64url

/** An opaque, versioned base64url string; clients must not take it apart. */
export function encodeEventsPosition(position: EventsPosition, partitionCount: number = position.size): string {
  const offsets: string[] = [];
  for (let partition = 0; partition < partitionCount; partition++) {
    const offset = position.get(partition);
    if (offset === undefined) throw new Error(`The position has no offset for partition ${partition}`);
    offsets.push(offset);
  }
  return Buffer.from([POSITION_VERSION, ...offsets].join('.')).toString('base64url');
}

/** Validates as untrusted input; throws EventsQueryError (on `field`) saying what is wrong. */
export function decodeEventsPosition(text: unknown, partitionCount: number, field = 'after'): EventsPosition {
  const invalid = (why: string) => new EventsQueryError(field, `${field} is not a valid events cursor: ${why}`);
  if (typeof text !== 'string' || text.length === 0) throw invalid('expected a non-empty string');
  if (text.length > MAX_POSITION_LENGTH) throw invalid('too long');
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw invalid('not base64url');
  const [version, ...offsets] = Buffer.from(text, 'base64url').toString('latin1').split('.');
  if (version !== POSITION_VERSION) throw invalid('unknown format or version');
  if (offsets.length !== partitionCount) {
    throw invalid(`it was made for a log of ${offsets.length} partitions, this log has ${partitionCount}`);
  }
  return new Map(
    offsets.map((offset, partition): [number, string] => {
      if (!/^\d{1,19}$/.test(offset) || BigInt(offset) > MAX_OFFSET) throw invalid(`bad offset for partition ${partition}`);
      return [partition, BigInt(offset).toString()];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading a range of the log

export interface ReadEventsOptions {
  /** Inclusive bound on occurredAt; reading starts at `offsetsForTime(from)` (the earliest offset without it). */
  readonly from?: Date;
  /** Exclusive bound on occurredAt; reading stops at min(end, `offsetsForTime(to)`). Not with `follow`. */
  readonly to?: Date;
  /** Only these event types (all without it). */
  readonly types?: ReadonlySet<string>;
  /** Only this conversation: reads its partition alone. */
  readonly conversationId?: string;
  /** Keep delivering events appended after the read began, until the stream is closed. */
  readonly follow?: boolean;
  /** Resume where an earlier read's `position()` was (from and the filters still apply). */
  readonly after?: EventsPosition;
  /** Stop after this many events. */
  readonly limit?: number;
  /** Events held per partition before that partition's consumer waits (default 256). */
  readonly bufferSize?: number;
}

export interface ReadProgress {
  /** Records in range when the read began, Σ (stop − start) offsets over the partitions read; with `follow`, up to the end offsets then. */
  readonly total: number;
  /** Records the reader has got past so far (delivered, filtered out or compacted away), on the scale of `total`. */
  readonly read: number;
  /** Events handed to the consumer of the stream. */
  readonly delivered: number;
  /** Events fetched and waiting in the per-partition buffers. */
  readonly buffered: number;
}

/** An ordered, pulled stream of events. Iterate it once; leaving the loop stops the log consumers. */
export interface EventStream extends AsyncIterable<RecordedEvent> {
  /** Undefined until the read has started (on the first `next()`). */
  progress(): ReadProgress | undefined;
  /** The resume point just after the last event delivered; undefined until the read has started. */
  position(): EventsPosition | undefined;
  /**
   * Whether the next `next()` is answered without waiting for the log: an event is at hand, or the
   * read is over. A writer can gather what is at hand and flush before it would wait.
   */
  ready(): boolean;
  /** Stops the log consumers and ends the iteration (a pending `next()` resolves done). Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_BUFFER_SIZE = 256;

/**
 * Reads events from the log in order: log order within each partition; across partitions a
 * k-way merge by (occurredAt, partition, offset) over the partitions' heads, so a read of every
 * conversation comes ordered by (occurredAt, cursor). Where clocks disagree, per-partition log
 * order wins: a partition's events are never reordered, so an event stamped earlier than its
 * predecessor in the same partition comes after it. With `follow`, once every partition has
 * caught up with the end offsets of the start, live events go out as they arrive (an idle
 * partition cannot hold the others back), still in log order per partition.
 *
 * Memory stays flat for any range: each partition has a bounded buffer, and the handler of a
 * partition's batch waits while that buffer is full. One log consumer reads every partition: a
 * plain read's handler waiting for room holds back only its own partition (EventLog.consume), so
 * the partition the merge is waiting for goes on being fetched.
 */
export function readEvents(log: EventLog, options: ReadEventsOptions = {}): EventStream {
  return new EventReader(log, options);
}

interface Pending {
  readonly event: RecordedEvent;
  readonly occurredAtMs: number;
  readonly offset: bigint;
}

class PartitionHead {
  readonly buffer: Pending[] = [];
  /** Events taken into the buffer so far. */
  accepted = 0;
  /** The next offset the log will deliver to us. */
  fetchedUpTo: bigint;
  /** The next offset after the last event delivered: the resume point. */
  deliveredUpTo: bigint;
  wakeProducer: (() => void) | undefined;

  constructor(
    readonly partition: number,
    readonly start: bigint,
    /** Exclusive; undefined when following. */
    readonly stop: bigint | undefined,
    readonly endAtStart: bigint,
  ) {
    this.fetchedUpTo = start;
    this.deliveredUpTo = start;
  }

  get finished(): boolean {
    return this.stop !== undefined && this.fetchedUpTo >= this.stop;
  }

  get caughtUp(): boolean {
    return this.fetchedUpTo >= this.endAtStart;
  }

  wake(): void {
    const wake = this.wakeProducer;
    this.wakeProducer = undefined;
    wake?.();
  }
}

const offsetIn = (offsets: PartitionOffsets, partition: number): bigint => BigInt(offsets.get(partition) ?? '0');
const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);
const minOf = (a: bigint, b: bigint) => (a < b ? a : b);

function isBefore(a: Pending, b: Pending): boolean {
  if (a.occurredAtMs !== b.occurredAtMs) return a.occurredAtMs < b.occurredAtMs;
  const pa = a.event.position.partition;
  const pb = b.event.position.partition;
  return pa !== pb ? pa < pb : a.offset < b.offset;
}

class EventReader implements EventStream {
  private readonly fromMs: number | undefined;
  private readonly toMs: number | undefined;
  private readonly bufferSize: number;
  private heads: PartitionHead[] = [];
  private readonly headOf = new Map<number, PartitionHead>();
  private startOffsets = new Map<number, bigint>();
  private started = false;
  private iterated = false;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private delivered = 0;
  private wakeMerge: (() => void) | undefined;
  private consumer: Promise<EventConsumer> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly options: ReadEventsOptions,
  ) {
    const { from, to, follow, limit, bufferSize = DEFAULT_BUFFER_SIZE } = options;
    if (from !== undefined && Number.isNaN(from.getTime())) throw new EventsQueryError('from', 'from is not a valid time');
    if (to !== undefined && Number.isNaN(to.getTime())) throw new EventsQueryError('to', 'to is not a valid time');
    if (follow && to !== undefined) throw new EventsQueryError('to', 'to cannot be combined with follow');
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new EventsQueryError('limit', 'limit must be a whole number >= 0');
    if (!(Number.isInteger(bufferSize) && bufferSize >= 1)) throw new EventsQueryError('bufferSize', 'bufferSize must be a whole number >= 1');
    this.fromMs = from?.getTime();
    this.toMs = to?.getTime();
    this.bufferSize = bufferSize;
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.iterated) throw new Error('An event stream can be iterated only once');
    this.iterated = true;
    const events = this.events();
    return {
      next: () => events.next(),
      // Close first: a `next()` waiting for the log would otherwise hold `return()` back.
      return: async (value?: unknown) => {
        await this.close();
        return events.return(value as undefined);
      },
      throw: async (err?: unknown) => {
        await this.close();
        return events.throw(err);
      },
    };
  }

  progress(): ReadProgress | undefined {
    if (!this.started) return undefined;
    let total = 0n;
    let read = 0n;
    let buffered = 0;
    for (const head of this.heads) {
      const end = head.stop ?? head.endAtStart;
      total += end > head.start ? end - head.start : 0n;
      const upTo = head.stop !== undefined ? minOf(head.fetchedUpTo, head.stop) : head.fetchedUpTo;
      read += maxOf(0n, upTo - head.start - BigInt(head.buffer.length));
      buffered += head.buffer.length;
    }
    return { total: Number(total), read: Number(read), delivered: this.delivered, buffered };
  }

  position(): EventsPosition | undefined {
    if (!this.started) return undefined;
    const position = new Map<number, string>();
    for (const [partition, start] of this.startOffsets) position.set(partition, start.toString());
    for (const head of this.heads) position.set(head.partition, head.deliveredUpTo.toString());
    return position;
  }

  ready(): boolean {
    if (this.failure || this.closed) return true;
    if (!this.started) return false;
    if (this.options.limit !== undefined && this.delivered >= this.options.limit) return true;
    return this.pickNext() !== 'wait';
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      for (const head of this.heads) head.wake();
      this.notify();
      const consumer = await this.consumer?.catch(() => undefined);
      await consumer?.stop().catch(() => undefined);
    })();
    return this.closing;
  }

  private async *events(): AsyncGenerator<RecordedEvent, undefined> {
    try {
      if (this.options.limit === 0) return;
      await this.start();
      for (;;) {
        if (this.failure) throw this.failure.error;
        if (this.closed) return;
        if (this.options.limit !== undefined && this.delivered >= this.options.limit) return;
        const next = this.pickNext();
        if (next === 'done') return;
        if (next === 'wait') {
          await new Promise<void>((resolve) => (this.wakeMerge = resolve));
          continue;
        }
        const item = next.buffer.shift()!;
        next.wake();
        next.deliveredUpTo = item.offset + 1n;
        this.delivered++;
        yield item.event;
      }
    } finally {
      await this.close();
    }
  }

  private async start(): Promise<void> {
    const { log } = this;
    const { from, to, after, conversationId, follow } = this.options;
    const [ends, fromOffsets, toOffsets] = await Promise.all([
      log.endOffsets(),
      from === undefined ? undefined : log.offsetsForTime(from.getTime()),
      to === undefined ? undefined : log.offsetsForTime(to.getTime()),
    ]);
    const only = conversationId === undefined ? undefined : log.partitionFor(conversationId);
    for (let partition = 0; partition < log.partitionCount; partition++) {
      const end = offsetIn(ends, partition);
      let start = fromOffsets ? offsetIn(fromOffsets, partition) : 0n;
      if (after) start = maxOf(start, offsetIn(after, partition));
      this.startOffsets.set(partition, start);
      if (only !== undefined && partition !== only) continue;
      const stop = follow ? undefined : toOffsets ? minOf(end, offsetIn(toOffsets, partition)) : end;
      const head = new PartitionHead(partition, start, stop, end);
      this.heads.push(head);
      this.headOf.set(partition, head);
    }
    this.started = true;
    if (this.closed) return;

    const reading = this.heads.filter((head) => !head.finished);
    if (reading.length === 0) return;
    const consumer = log.consume(this.rangeOf(ends, reading), (batch) => this.accept(batch));
    this.consumer = consumer;
    consumer.then(
      (c) => c.done.then(() => this.onConsumerEnded(reading), (err) => this.fail(err)),
      (err) => this.fail(err),
    );
  }

  /** The consume range of some partitions; every other partition starts (and, when bounded, stops) at its end. */
  private rangeOf(ends: PartitionOffsets, heads: readonly PartitionHead[]): ConsumeOptions {
    const from = new Map<number, string>();
    const until = new Map<number, string>();
    for (let partition = 0; partition < this.log.partitionCount; partition++) {
      from.set(partition, offsetIn(ends, partition).toString());
      until.set(partition, offsetIn(ends, partition).toString());
    }
    for (const head of heads) {
      from.set(head.partition, head.start.toString());
      if (head.stop !== undefined) until.set(head.partition, head.stop.toString());
    }
    return this.options.follow ? { from } : { from, until };
  }

  private wanted(event: RecordedEvent, occurredAtMs: number): boolean {
    const { conversationId, types } = this.options;
    if (conversationId !== undefined && event.conversationId !== conversationId) return false;
    if (types !== undefined && !types.has(event.event.type)) return false;
    if (this.fromMs !== undefined && occurredAtMs < this.fromMs) return false;
    if (this.toMs !== undefined && occurredAtMs >= this.toMs) return false;
    return true;
  }

  /** The consume handler: takes a batch into the partition's buffer, waiting while it is full. */
  private async accept(batch: EventBatch): Promise<void> {
    const head = this.headOf.get(batch.partition);
    if (!head || this.closed) return;
    const { limit } = this.options;
    for (const event of batch.events) {
      const offset = BigInt(event.position.offset);
      if (offset < head.fetchedUpTo) continue; // already seen (a redelivery)
      if (head.stop !== undefined && offset >= head.stop) break;
      const occurredAtMs = Date.parse(event.metadata.occurredAt);
      if (this.wanted(event, occurredAtMs) && (limit === undefined || head.accepted < limit)) {
        while (head.buffer.length >= this.bufferSize && !this.closed) {
          await new Promise<void>((resolve) => (head.wakeProducer = resolve));
        }
        if (this.closed) return;
        head.buffer.push({ event, occurredAtMs, offset });
        head.accepted++;
      }
      head.fetchedUpTo = offset + 1n;
      this.notify();
    }
    const next = BigInt(batch.nextOffset);
    if (next > head.fetchedUpTo) head.fetchedUpTo = head.stop !== undefined ? minOf(next, head.stop) : next;
    this.notify();
  }

  /**
   * The partition whose head goes next; 'wait' while a partition that may still have an earlier
   * event has nothing buffered; 'done' when every partition is read to its stop.
   */
  private pickNext(): PartitionHead | 'wait' | 'done' {
    let best: PartitionHead | undefined;
    let more = false;
    for (const head of this.heads) {
      if (head.buffer.length > 0) {
        if (!best || isBefore(head.buffer[0], best.buffer[0])) best = head;
        continue;
      }
      if (head.finished) continue;
      more = true;
      if (!this.options.follow || !head.caughtUp) return 'wait';
    }
    if (best) return best;
    return more ? 'wait' : 'done';
  }

  private onConsumerEnded(heads: readonly PartitionHead[]): void {
    if (this.closed) return;
    const unfinished = heads.filter((head) => !head.finished).map((head) => head.partition);
    if (unfinished.length > 0) {
      this.fail(new Error(`The event log stopped reading partition ${unfinished.join(', ')} before the end of the range`));
    }
  }

  private fail(error: unknown): void {
    if (this.closed || this.failure) return;
    this.failure = { error };
    this.notify();
  }

  private notify(): void {
    const wake = this.wakeMerge;
    this.wakeMerge = undefined;
    wake?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Pages, for the GraphQL `events` query

export const MAX_EVENTS_PAGE = 1000;

export interface EventsPageQuery {
  readonly from?: Date;
  readonly to?: Date;
  readonly types?: Iterable<string>;
  readonly conversationId?: string;
  /** 1..MAX_EVENTS_PAGE */
  readonly first: number;
  /** An edge cursor of an earlier page. */
  readonly after?: string;
}

export interface EventEdge {
  /** The position just after this event: resuming from it continues the same ordered stream. */
  readonly cursor: string;
  readonly node: EventRecord;
}

export interface EventsPage {
  readonly edges: EventEdge[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: false;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
}

/** Validates a page query as untrusted input; throws EventsQueryError naming the field. */
export function parseEventsPageQuery(query: EventsPageQuery, partitionCount: number): ReadEventsOptions & { limit: number } {
  const { from, to, first, conversationId } = query;
  if (!Number.isInteger(first) || first < 1 || first > MAX_EVENTS_PAGE) {
    throw new EventsQueryError('first', `first must be between 1 and ${MAX_EVENTS_PAGE}`);
  }
  if (from !== undefined && Number.isNaN(from.getTime())) throw new EventsQueryError('from', 'from is not a valid time');
  if (to !== undefined && Number.isNaN(to.getTime())) throw new EventsQueryError('to', 'to is not a valid time');
  if (from !== undefined && to !== undefined && to.getTime() <= from.getTime()) throw new EventsQueryError('to', 'to must be after from');
  if (conversationId !== undefined && !isConversationId(conversationId)) {
    throw new EventsQueryError('conversationId', 'conversationId is not a conversation id');
  }
  let types: Set<string> | undefined;
  if (query.types !== undefined) {
    types = new Set();
    for (const [index, type] of [...query.types].entries()) {
      if (!isConversationEventType(type)) {
        throw new EventsQueryError('types', `types[${index}] ${JSON.stringify(type)} is not an event type; expected one of ${CONVERSATION_EVENT_TYPES.join(', ')}`);
      }
      types.add(type);
    }
    if (types.size === 0) throw new EventsQueryError('types', 'types must not be empty; leave it out for every type');
  }
  const after = query.after === undefined ? undefined : decodeEventsPosition(query.after, partitionCount, 'after');
  return { from, to, types, conversationId, after, limit: first + 1 };
}

/** One page of the events stream, reading at most `first + 1` events. */
export async function eventsPage(log: EventLog, query: EventsPageQuery): Promise<EventsPage> {
  const options = parseEventsPageQuery(query, log.partitionCount);
  const stream = readEvents(log, options);
  const edges: EventEdge[] = [];
  let hasNextPage = false;
  for await (const event of stream) {
    if (edges.length === query.first) {
      hasNextPage = true;
      break;
    }
    edges.push({ cursor: encodeEventsPosition(stream.position()!, log.partitionCount), node: toEventRecord(event) });
  }
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
