import type { ConversationEvent, LogPosition } from '@parley/domain';
import type { ConversationNotification, LiveMessage, PartitionNotifications } from '@parley/redis';
import { Logger } from '@nestjs/common';
import { Counter } from 'prom-client';

export const LIVE_LANE = Symbol('LIVE_LANE');

/** The timeline read model, written ahead of the projector. */
export interface LiveTimeline {
  /** Writes the messages' rows into the serving version of the timeline, and says which version that is. */
  write(messages: readonly LiveMessage[]): Promise<number>;
}

/** The conversations' channels, and how far each partition was announced. */
export interface LiveChannels {
  /** Publishes every batch's notifications in order, then records how far each partition is announced. */
  publish(batches: readonly PartitionNotifications[]): Promise<void>;
  publishedThrough(partition: number): Promise<bigint | null>;
  close(): Promise<void>;
}

/** An event the log has acknowledged, with its position and (for a message) its number in the conversation. */
export interface AppendedEvent {
  readonly event: ConversationEvent;
  readonly position: LogPosition;
  readonly seq?: number;
}

/** Events waiting to be announced, beyond which a batch is dropped (see `appended`). */
const MAX_WAITING_EVENTS = 100_000;
const dropped = new Counter({
  name: 'parley_live_dropped_events_total',
  help: 'Appended events the live lane gave up announcing (storage or Redis down too long); subscribers fill the gap from the timeline',
});

/** Notifications of one acknowledged append, waiting to be delivered. */
interface Waiting extends Omit<PartitionNotifications, 'written'> {
  /** The append's first offset. */
  readonly firstOffset: bigint;
  /** Whether it follows the partition's previous append delivered here, with nothing between them left out. */
  readonly follows: boolean;
}

/**
 * The inline projection of the partitions' writers (docs/adr/0009): once an append is
 * acknowledged, its messages are written to the timeline and then published on their
 * conversations' channels, in log order, with no second pass through Kafka. One delivery at a
 * time: what is acknowledged meanwhile, on any partition, goes together in the next one (one
 * timeline write, one Redis round trip), so the lane's cost per message falls as the rate
 * rises. A failed write or publish is retried (both are idempotent; subscribers drop what they
 * have by `seq`) and nothing overtakes it, so notifications are at-least-once and in order.
 *
 * With each partition's mark it records since which offset every message it delivered, without
 * a break, has its rows in which timeline version; the projector writes no row inside that run
 * and every row outside it (a writer that died before announcing, a failed append that landed
 * all the same, another version): it stays the guarantee for the read model.
 */
export class LiveLane {
  private readonly logger = new Logger(LiveLane.name);
  private pending: Waiting[] = [];
  /** Partitions whose next append does not follow the last one handed over (the writer said so, or a batch was dropped). */
  private readonly interruptions = new Set<number>();
  /**
   * Per partition, since when the lane has written the timeline rows of every message, without a
   * break, into which version: what it tells the projector, so that its pass skips those rows.
   */
  private readonly written = new Map<number, { readonly version: number; readonly from: bigint }>();
  private waiting = 0;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly timeline: LiveTimeline,
    private readonly channels: LiveChannels,
    private readonly retryMs = (attempt: number) => Math.min(50 * 2 ** attempt, 2_000),
  ) {}

  /** Where a new writer of the partition resumes announcing (null: unknown, nothing is re-announced). */
  publishedThrough(partition: number): Promise<bigint | null> {
    return this.channels.publishedThrough(partition);
  }

  /**
   * Acknowledged events of one partition, in log order: make their messages readable, then
   * announce them. An append with nothing to announce (no message, no leave) claims nothing and
   * leaves the partition's run of written rows unbroken.
   */
  appended(partition: number, events: readonly AppendedEvent[]): void {
    const notifications = events.flatMap((e) => notificationOf(e));
    if (notifications.length === 0 || this.stopped) return;
    const follows = !this.interruptions.delete(partition);
    if (this.waiting + notifications.length > MAX_WAITING_EVENTS) {
      // Memory stays bounded while storage or Redis is down; subscribers see the gap at the next message.
      dropped.inc(notifications.length);
      this.logger.error(`Partition ${partition}: ${notifications.length} notifications dropped (${this.waiting} waiting)`);
      this.interruptions.add(partition);
      return;
    }
    this.waiting += notifications.length;
    const firstOffset = BigInt(events[0].position.offset);
    this.pending.push({ partition, notifications, nextOffset: BigInt(events.at(-1)!.position.offset) + 1n, firstOffset, follows });
    this.running ??= this.drain();
  }

  /** The partition's next append does not follow the last one (see Announcer.interrupted). */
  interrupted(partition: number): void {
    this.interruptions.add(partition);
  }

  /** Stops retrying; waits for what is being delivered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await this.channels.close();
  }

  private async drain(): Promise<void> {
    await Promise.resolve(); // appends acknowledged in the same tick go together
    while (this.pending.length > 0 && !this.stopped) {
      const batches = this.pending;
      this.pending = [];
      await this.deliver(batches);
      this.waiting -= notificationCount(batches);
    }
    this.running = undefined;
  }

  private async deliver(batches: readonly Waiting[]): Promise<void> {
    const messages = batches.flatMap((b) => b.notifications.flatMap((n) => (n.kind === 'message' ? [n.message] : [])));
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const version = await this.timeline.write(messages);
        // Each partition's run of written rows goes on, or starts again at this append.
        const written = new Map(this.written);
        const announced = batches.map((b) => {
          const run = written.get(b.partition);
          const from = b.follows && run?.version === version ? run.from : b.firstOffset;
          written.set(b.partition, { version, from });
          return { ...b, written: { version, from } };
        });
        await this.channels.publish(announced);
        for (const [partition, run] of written) this.written.set(partition, run);
        return;
      } catch (err) {
        this.logger.warn(`Announcing ${notificationCount(batches)} events failed (attempt ${attempt + 1}, retrying): ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, this.retryMs(attempt)));
      }
    }
  }
}

const notificationCount = (batches: readonly Waiting[]) => batches.reduce((n, b) => n + b.notifications.length, 0);

function notificationOf({ event, position, seq }: AppendedEvent): ConversationNotification[] {
  switch (event.type) {
    case 'MessageSent': {
      const { conversationId, messageId, clientMessageId, senderId, body, sentAt } = event.data;
      const message = { conversationId, id: messageId, clientMessageId, senderId, body, sentAt, partition: position.partition, offset: position.offset, seq: seq ?? event.data.seq ?? 0 };
      return [{ kind: 'message', message }];
    }
    case 'UserLeft':
      return [{ kind: 'left', conversationId: event.data.conversationId, userId: event.data.userId, offset: position.offset }];
    default:
      return [];
  }
}
