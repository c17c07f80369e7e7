import type { LogPosition } from '@parley/domain';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import {
  assertOneConversation,
  type ConsumeOptions,
  type ConsumerGroupOptions,
  type EventBatch,
  type EventConsumer,
  type GroupAwareEventLog,
  type NewEvent,
  type OwnershipHandler,
  type OwnershipOptions,
  type PartitionHeld,
  type PartitionOffsets,
  type PartitionOwnership,
  type RecordedEvent,
} from './event-log.port';
import { ensureCompactedTopic, topicOffsets, topicOffsetsAt } from './kafka-client';
import { fromMessage, toMessage } from './kafka-message';
import { fetchedOffset, HEARTBEAT_INTERVAL_MS, KafkaPartitionOwnership, SESSION_TIMEOUT_MS } from './kafka-partition-ownership';
import { partitionForConversation } from './partitioning';

/**
 * How long a gathering read (ConsumerGroupOptions.gatherMs) lets the broker hold a fetch that
 * finds nothing: the broker answers as soon as a record arrives, so this only sets how often a
 * quiet log is asked (and how soon a rebalance or a stop is noticed while it is quiet).
 */
const QUIET_FETCH_WAIT_MS = 500;
/** What a plain read fetches per partition at most (a record batch is returned whole, up to the broker's 1 MiB). */
const PLAIN_READ_PARTITION_BYTES = 512 * 1024;
/** A plain read decodes and hands on this many records of a fetched batch at a time. */
const PLAIN_READ_EVENTS = 256;

interface PendingAppend {
  readonly partition: number;
  /** Checked again right before the request goes out (a leased appender's lease). */
  readonly guard?: () => Error | undefined;
  readonly messages: Message[];
  readonly resolve: (positions: LogPosition[]) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The event log on one compacted Kafka topic (docs/adr/0003-event-log-topics.md).
 * Appends that arrive while a produce request is in flight are sent together in the next
 * request: one request in flight keeps the order per partition, batching keeps throughput.
 */
export class KafkaEventLog implements GroupAwareEventLog {
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly consumers = new Set<Consumer>();
  private queue: PendingAppend[] = [];
  private sending = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    readonly partitionCount: number,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.admin = kafka.admin();
  }

  /** Connects and creates the topic if needed; the partition count must match an existing topic. */
  /**
   * Connects; writers (`readOnly` false) also create the topic if it is missing. Readers (the
   * CLI, the API's `events`) never create it: a mistyped EVENTS_TOPIC is an error, not an
   * empty topic.
   */
  async connect({ readOnly = false }: { readOnly?: boolean } = {}): Promise<void> {
    await Promise.all([readOnly ? undefined : this.producer.connect(), this.admin.connect()]);
    if (!readOnly) await ensureCompactedTopic(this.admin, this.topic, this.partitionCount);
    else if (!(await this.admin.listTopics()).includes(this.topic)) throw new Error(`Topic ${this.topic} does not exist (check EVENTS_TOPIC)`);
    const [metadata] = (await this.admin.fetchTopicMetadata({ topics: [this.topic] })).topics;
    if (metadata.partitions.length !== this.partitionCount) {
      throw new Error(
        `Topic ${this.topic} has ${metadata.partitions.length} partitions, configuration says ${this.partitionCount}: ` +
          'the partition of a conversation would change. Set EVENTS_TOPIC_PARTITIONS to the topic\'s count.',
      );
    }
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]); // harmless when never connected
  }

  /** murmur2 over the id's bytes on every command showed in profiles: remembered for recent ids. */
  private readonly partitions = new Map<string, number>();

  partitionFor(conversationId: string): number {
    let partition = this.partitions.get(conversationId);
    if (partition === undefined) {
      if (this.partitions.size >= 10_000) this.partitions.clear();
      this.partitions.set(conversationId, (partition = partitionForConversation(conversationId, this.partitionCount)));
    }
    return partition;
  }

  async append(conversationId: string, events: readonly NewEvent[]): Promise<LogPosition[]> {
    assertOneConversation(conversationId, events);
    return this.appendToPartition(this.partitionFor(conversationId), events);
  }

  private appendToPartition(partition: number, events: readonly NewEvent[], guard?: () => Error | undefined): Promise<LogPosition[]> {
    if (events.length === 0) return Promise.resolve([]);
    const messages = events.map((e) => toMessage(e, partition));
    return new Promise((resolve, reject) => {
      this.queue.push({ partition, messages, resolve, reject, guard });
      if (!this.sending) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch = this.queue.filter((pending) => {
        const refused = pending.guard?.();
        if (refused) pending.reject(refused);
        return !refused;
      });
      this.queue = [];
      if (batch.length === 0) continue;
      try {
        const results = await this.producer.send({ topic: this.topic, acks: -1, messages: batch.flatMap((p) => p.messages) });
        // kafkajs keeps the given order within a partition; offsets are consecutive from baseOffset.
        const next = new Map(results.map((r) => [r.partition, BigInt(r.baseOffset ?? '0')]));
        for (const pending of batch) {
          const positions = pending.messages.map(() => {
            const offset = next.get(pending.partition)!;
            next.set(pending.partition, offset + 1n);
            return { partition: pending.partition, offset: offset.toString() };
          });
          pending.resolve(positions);
        }
      } catch (err) {
        for (const pending of batch) pending.reject(err);
      }
    }
    this.sending = false;
  }

  async endOffsets(): Promise<PartitionOffsets> {
    const offsets = await topicOffsets(this.admin, this.topic);
    return new Map(offsets.map((o) => [o.partition, o.high]));
  }

  async offsetsForTime(timestampMs: number): Promise<PartitionOffsets> {
    const [atTime, ends] = await Promise.all([topicOffsetsAt(this.admin, this.topic, timestampMs), this.endOffsets()]);
    // Kafka answers -1 when no record is that late: start at the end.
    return new Map(atTime.map((o) => [o.partition, o.offset === '-1' ? ends.get(o.partition)! : o.offset]));
  }

  own(options: OwnershipOptions, handler: OwnershipHandler): Promise<PartitionOwnership> {
    return KafkaPartitionOwnership.join(this.kafka, this.topic, options, handler, (partition, events, guard) => this.appendToPartition(partition, events, guard));
  }

  async groupMembers(group: string): Promise<number> {
    const { groups } = await this.admin.describeGroups([group]);
    return groups[0]?.members.length ?? 0;
  }

  consume(options: ConsumeOptions, handler: (batch: EventBatch) => Promise<void>): Promise<EventConsumer> {
    return this.read(options, undefined, handler);
  }

  /**
   * A member of a consumer group over the topic (docs/adr/0011): each partition it is given is
   * paused until `assigned` says where to read it from, then sought there; nothing is committed.
   */
  consumeInGroup(group: ConsumerGroupOptions, handler: (batch: EventBatch, held: PartitionHeld) => Promise<void>): Promise<EventConsumer> {
    return this.read({ from: 'earliest' }, group, handler);
  }

  private async read(
    options: ConsumeOptions,
    group: ConsumerGroupOptions | undefined,
    handler: (batch: EventBatch, held: PartitionHeld) => Promise<void>,
  ): Promise<EventConsumer> {
    const consumer = this.kafka.consumer({
      // Without a group, a private one per reader: kafkajs has no manual assignment. Nothing is committed either way.
      groupId: group?.name ?? `parley-reader-${randomUUID()}`,
      // A member's partitions move within ~6 s of it dying; applying a batch must end within the rebalance timeout.
      ...(group ? { sessionTimeout: SESSION_TIMEOUT_MS, heartbeatInterval: HEARTBEAT_INTERVAL_MS, rebalanceTimeout: 30_000 } : {}),
      allowAutoTopicCreation: false,
      // The broker answers a fetch once it has anything, or after maxWaitTimeInMs.
      maxWaitTimeInMs: group?.gatherMs ? QUIET_FETCH_WAIT_MS : 100,
      // A plain read (a replay, a page) fetches about one record batch per partition at a time: what
      // is fetched stays decoded in memory until the reader's merge takes it, and fetching the whole
      // of a small log at once made the process spend a third of its time collecting garbage.
      ...(group
        ? { maxBytesPerPartition: 4 * 1024 * 1024 }
        : { maxBytesPerPartition: PLAIN_READ_PARTITION_BYTES, maxBytes: Math.min(this.partitionCount * PLAIN_READ_PARTITION_BYTES, 50 * 1024 * 1024) }),
    });
    this.consumers.add(consumer);
    const from = options.from;
    const until = options.until;
    /** Where each partition read starts; a group member's partitions are those its latest assignment named. */
    const startAt = new Map<number, string>(typeof from === 'string' ? [] : from);
    /** A group member's partitions whose first batch from the seek has arrived. */
    const started = new Set<number>();
    let assignment = 0;
    const finished = new Set<number>();
    if (until) {
      for (let partition = 0; partition < this.partitionCount; partition++) {
        const end = BigInt(until.get(partition) ?? '0');
        if (end === 0n || BigInt(startAt.get(partition) ?? '0') >= end) finished.add(partition);
      }
    }

    /** Per partition, the handler's chain: a batch is handed on once the partition's previous one is handled. */
    const chains = new Map<number, Promise<void>>();
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    let stopping: Promise<void> | undefined;
    /** Disconnects once; `done` settles after the consumer has left (with the handler's error, if any). */
    const finish = (err?: unknown): Promise<void> => {
      stopping ??= (async () => {
        this.consumers.delete(consumer);
        try {
          await consumer.disconnect();
          await Promise.all(chains.values()); // a plain read's handlers still running
        } finally {
          if (err) settle.reject(err);
          else settle.resolve();
        }
      })();
      return stopping;
    };
    const handle: EventConsumer = { done, stop: () => finish() };
    if (until && finished.size >= this.partitionCount) {
      await finish();
      return handle;
    }

    /** Per partition: the last offset of the last batch eachBatch saw, the offset after the last batch handled. */
    const seen = new Map<number, string>();
    const handled = new Map<number, bigint>();
    const deliver = async (partition: number, events: RecordedEvent[], lastOffset: bigint, highWatermark: string, held: PartitionHeld): Promise<boolean> => {
      const end = until ? BigInt(until.get(partition) ?? '0') : undefined;
      const nextOffset = end !== undefined && lastOffset + 1n > end ? end : lastOffset + 1n;
      try {
        await handler({ partition, events, highWatermark, nextOffset: nextOffset.toString() }, held);
      } catch (err) {
        void finish(err);
        return false;
      }
      handled.set(partition, nextOffset);
      if (end !== undefined && nextOffset >= end) {
        finished.add(partition);
        if (finished.size >= this.partitionCount) void finish();
      }
      return true;
    };

    /**
     * A gathering read's pace: a fetch's batches are handed on `gatherMs` after it returned (the
     * first batch waits; kafkajs fetches again once every batch of a fetch is handled), so what
     * arrives meanwhile comes with the next fetch, and no event is handed on younger than that.
     */
    let fetched = 0;
    const gathered = async () => {
      const wait = fetched + (group?.gatherMs ?? 0) - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    };
    if (group?.gatherMs) consumer.on(consumer.events.FETCH, () => (fetched = Date.now()));

    await consumer.connect();
    if (group) {
      // Every partition waits, paused, until the member says where to read it from (its own
      // checkpoints); then each is sought there and resumed. Nothing was being handled when kafkajs
      // rejoined; empty batches still being handed on are awaited first.
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const partitions = [...(payload.memberAssignment[this.topic] ?? [])].sort((a, b) => a - b);
        const current = ++assignment;
        consumer.pause([{ topic: this.topic }]);
        startAt.clear();
        started.clear();
        void Promise.all(chains.values())
          .then(() => group.assigned(partitions))
          .then((offsets) => {
            if (current !== assignment || stopping) return;
            for (const partition of partitions) {
              const offset = offsets.get(partition) ?? (from === 'latest' ? undefined : typeof from === 'string' ? '0' : from.get(partition) ?? '0');
              if (offset === undefined) continue; // kafkajs starts it at the end
              startAt.set(partition, offset);
              handled.delete(partition);
              seen.delete(partition);
              consumer.seek({ topic: this.topic, partition, offset });
            }
            consumer.resume([{ topic: this.topic, partitions }]);
          })
          .catch((err: unknown) => void finish(err));
      });
    }
    await consumer.subscribe({ topic: this.topic, fromBeginning: from !== 'latest' });
    // A fetch that returns only transaction markers (or aborted records) never reaches eachBatch;
    // its progress is handed on as an empty batch, so readers reach the end of a partition whose
    // last records are markers (docs/adr/0008).
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const { partition } = payload;
      const lastOffset = BigInt(payload.lastOffset);
      const start = BigInt(startAt.get(partition) ?? '0');
      if (seen.get(partition) === payload.lastOffset) return; // eachBatch had it
      if (finished.has(partition) || stopping || lastOffset < (handled.get(partition) ?? start)) return;
      if (group && !started.has(partition)) return;
      handled.set(partition, lastOffset + 1n);
      const current = assignment;
      const held: PartitionHeld = async () => current === assignment && !stopping;
      const previous = chains.get(partition) ?? Promise.resolve();
      chains.set(partition, previous.then(() => deliver(partition, [], lastOffset, payload.highWatermark, held).then(() => undefined)));
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: group ? this.partitionCount : 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
        const partition = batch.partition;
        if (group) {
          if (!startAt.has(partition)) return; // not (yet) told where to read it from
          if (!started.has(partition) && fetchedOffset(batch) !== startAt.get(partition)) return; // fetched before the seek
          started.add(partition);
        }
        seen.set(partition, batch.lastOffset());
        await chains.get(partition);
        if (finished.has(partition)) return;
        const start = startAt.has(partition) ? BigInt(startAt.get(partition)!) : undefined;
        const end = until ? BigInt(until.get(partition) ?? '0') : undefined;
        if (!group) {
          // A plain read hands the batch on and goes on with the fetch's other partitions: only this
          // partition waits for its handler (paused, so kafkajs leaves it out of the next fetches) and
          // is resumed once the handler is done. So one consumer reads every partition while a handler
          // waits for room, and each record is fetched and decoded once. The records are decoded and
          // handed on PLAIN_READ_EVENTS at a time, as the handler takes them: a fetched batch waits
          // as Kafka records, not as events.
          const messages: KafkaMessage[] = [];
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (start !== undefined && offset < start) continue; // fetched before our seek applied
            if (end !== undefined && offset >= end) break;
            messages.push(message);
          }
          if (!isRunning() || isStale()) return;
          const held: PartitionHeld = async () => isRunning() && !isStale();
          const { highWatermark } = batch;
          const lastOffset = BigInt(batch.lastOffset());
          const handOn = async (): Promise<boolean> => {
            for (let i = 0; ; i += PLAIN_READ_EVENTS) {
              const part = messages.slice(i, i + PLAIN_READ_EVENTS);
              const events: RecordedEvent[] = [];
              for (const message of part) {
                try {
                  const event = fromMessage(this.topic, partition, message);
                  if (event) events.push(event);
                } catch (err) {
                  void finish(err); // the reader stops and says which event it could not read
                  return false;
                }
              }
              const last = i + PLAIN_READ_EVENTS >= messages.length;
              if (!(await deliver(partition, events, last ? lastOffset : BigInt(part[part.length - 1].offset), highWatermark, held))) return false;
              if (last) return true;
              if (stopping) return false;
            }
          };
          resolveOffset(batch.lastOffset());
          consumer.pause([{ topic: this.topic, partitions: [partition] }]);
          chains.set(
            partition,
            handOn().then((ok) => {
              if (ok && !finished.has(partition) && !stopping) consumer.resume([{ topic: this.topic, partitions: [partition] }]);
            }),
          );
          return;
        }
        const events: RecordedEvent[] = [];
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (start !== undefined && offset < start) continue; // fetched before our seek applied
          if (end !== undefined && offset >= end) break;
          try {
            const event = fromMessage(this.topic, partition, message);
            if (event) events.push(event);
          } catch (err) {
            void finish(err); // the reader stops and says which event it could not read
            return;
          }
        }
        await gathered();
        if (!isRunning() || isStale()) return;
        // A heartbeat is where a member learns of a rebalance: then the partition may go to another
        // member, the handler stops, and kafkajs rejoins once this batch returns (the error rethrown).
        let rebalancing: unknown;
        const current = assignment;
        const held: PartitionHeld = async () => {
          if (rebalancing || current !== assignment || !isRunning() || isStale()) return false;
          try {
            await heartbeat();
            return true;
          } catch (err) {
            rebalancing = err;
            return false;
          }
        };
        if (!(await deliver(partition, events, BigInt(batch.lastOffset()), batch.highWatermark, held))) return;
        if (rebalancing) throw rebalancing;
        resolveOffset(batch.lastOffset());
        await heartbeat();
      },
    });
    if (!group) {
      for (const [partition, offset] of startAt) consumer.seek({ topic: this.topic, partition, offset });
      // Partitions with nothing to read are left out of the fetches.
      if (finished.size > 0) consumer.pause([{ topic: this.topic, partitions: [...finished] }]);
    }
    return handle;
  }
}
