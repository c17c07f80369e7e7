import type { ConversationEvent, LogPosition } from '@parley/domain';
import type { ConversationNotification, LiveMessage, PartitionNotifications } from '@parley/redis';
import { Logger } from '@nestjs/common';
import { Counter } from 'prom-client';

export const LIVE_LANE = Symbol('LIVE_LANE');

/** The timeline read model, written ahead of the projector. */
export interface LiveTimeline {
  write(messages: readonly LiveMessage[]): Promise<void>;
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

/**
 * The inline projection of the partitions' writers (docs/adr/0009): once an append is
 * acknowledged, its messages are written to the timeline and then published on their
 * conversations' channels, in log order, with no second pass through Kafka. One delivery at a
 * time: what is acknowledged meanwhile, on any partition, goes together in the next one (one
 * timeline write, one Redis round trip), so the lane's cost per message falls as the rate
 * rises. A failed write or publish is retried (both are idempotent; subscribers drop what they
 * have by `seq`) and nothing overtakes it, so notifications are at-least-once and in order; the
 * projector's pass writes the same rows again and stays the guarantee for the read model.
 */
export class LiveLane {
  private readonly logger = new Logger(LiveLane.name);
  private pending: PartitionNotifications[] = [];
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

  /** Acknowledged events of one partition, in log order: make their messages readable, then announce them. */
  appended(partition: number, events: readonly AppendedEvent[]): void {
    const notifications = events.flatMap((e) => notificationOf(e));
    if (notifications.length === 0 || this.stopped) return;
    if (this.waiting + notifications.length > MAX_WAITING_EVENTS) {
      // Memory stays bounded while storage or Redis is down; subscribers see the gap at the next message.
      dropped.inc(notifications.length);
      this.logger.error(`Partition ${partition}: ${notifications.length} notifications dropped (${this.waiting} waiting)`);
      return;
    }
    this.waiting += notifications.length;
    this.pending.push({ partition, notifications, nextOffset: BigInt(events.at(-1)!.position.offset) + 1n });
    this.running ??= this.drain();
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
      this.waiting -= batches.reduce((n, b) => n + b.notifications.length, 0);
    }
    this.running = undefined;
  }

  private async deliver(batches: readonly PartitionNotifications[]): Promise<void> {
    const messages = batches.flatMap((b) => b.notifications.flatMap((n) => (n.kind === 'message' ? [n.message] : [])));
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.timeline.write(messages);
        await this.channels.publish(batches);
        return;
      } catch (err) {
        const count = batches.reduce((n, b) => n + b.notifications.length, 0);
        this.logger.warn(`Announcing ${count} events failed (attempt ${attempt + 1}, retrying): ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, this.retryMs(attempt)));
      }
    }
  }
}

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
