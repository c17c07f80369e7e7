import type { Change, RowsWrittenAhead, WrittenRun } from '@parley/projections';
import type { RedisClient } from './redis-client';

/** A message as subscribers receive it: rendered, numbered, readable in the timeline already. */
export type LiveMessage = Extract<Change, { kind: 'message' }>['message'] & { readonly conversationId: string };

/**
 * What a conversation's channel carries, in log order (docs/adr/0009): its messages, and the
 * members who left (whose subscriptions end there, before any later message).
 */
export type ConversationNotification =
  | { readonly kind: 'message'; readonly message: LiveMessage }
  | { readonly kind: 'left'; readonly conversationId: string; readonly userId: string; readonly offset: string };

/** Notifications of one partition, in log order, and the offset after the last event they cover. */
export interface PartitionNotifications {
  readonly partition: number;
  readonly notifications: readonly ConversationNotification[];
  readonly nextOffset: bigint;
  /**
   * From which offset on (up to nextOffset) every message of the partition has its timeline
   * rows written, and into which version (see LiveTimelineRows).
   */
  readonly written: Omit<WrittenRun, 'to'>;
}

/** One channel per conversation: an API instance hears only the conversations its subscribers follow. */
export const conversationChannel = (namespace: string, conversationId: string) => `parley:${namespace}:conversation:v1:${conversationId}`;

/** Per partition, the offset below which every notification was published (where a new writer resumes). */
const publishedKey = (namespace: string, partition: number) => `parley:${namespace}:live:v1:published:${partition}`;
/** Per partition, the run of offsets whose messages' timeline rows the live lane wrote (a hash: version, from, to). */
const writtenKey = (namespace: string, partition: number) => `parley:${namespace}:live:v1:timeline-written:${partition}`;

/** Publishes conversations' notifications; owns its connection. */
export class RedisConversationChannels {
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {}

  /** Publishes in order, then records how far each partition is published: one round trip. */
  async publish(batches: readonly PartitionNotifications[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    const marks = new Map<number, PartitionNotifications>();
    for (const batch of batches) {
      for (const n of batch.notifications) {
        const conversationId = n.kind === 'message' ? n.message.conversationId : n.conversationId;
        pipeline.publish(conversationChannel(this.namespace, conversationId), JSON.stringify(n));
      }
      marks.set(batch.partition, batch);
    }
    for (const [partition, { nextOffset, written }] of marks) {
      pipeline.set(publishedKey(this.namespace, partition), nextOffset.toString());
      pipeline.hset(writtenKey(this.namespace, partition), { version: written.version, from: written.from.toString(), to: nextOffset.toString() });
    }
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }

  /** The offset below which the partition's notifications were all published; null when unknown. */
  async publishedThrough(partition: number): Promise<bigint | null> {
    const value = await this.redis.get(publishedKey(this.namespace, partition));
    return value === null ? null : BigInt(value);
  }
}

/** What the live lane says it wrote (RedisConversationChannels.publish), as the projector reads it. */
export class LiveTimelineRows implements RowsWrittenAhead {
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {}

  /** The partition's run of offsets whose messages have their timeline rows written; null when unknown. */
  async written(partition: number): Promise<WrittenRun | null> {
    const run = await this.redis.hgetall(writtenKey(this.namespace, partition));
    if (run.version === undefined || run.from === undefined || run.to === undefined) return null;
    return { version: Number(run.version), from: BigInt(run.from), to: BigInt(run.to) };
  }
}
