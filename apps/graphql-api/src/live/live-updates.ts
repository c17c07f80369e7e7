import { CHANGES_CHANNEL, createRedis, type ChangeNotification, type RedisClient, type RedisConfig } from '@parley/redis';
import type { Change } from '@parley/projections';

export type LiveMessage = Extract<Change, { kind: 'message' }>['message'] & { conversationId: string };
type Listener = (message: LiveMessage) => void;

/**
 * Live updates for this API instance: one Redis subscription to the projector's change
 * notifications, fanned out in memory to the subscriptions of each conversation. A message
 * arrives here only after the timeline has stored it.
 */
export class LiveUpdates {
  private readonly subscriber: RedisClient;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(redis: RedisConfig) {
    this.subscriber = createRedis(redis, 'api-live-updates');
    this.subscriber.on('message', (_channel: string, raw: string) => this.dispatch(JSON.parse(raw) as ChangeNotification));
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(CHANGES_CHANNEL);
  }

  async stop(): Promise<void> {
    await this.subscriber.quit().catch(() => undefined);
  }

  private dispatch(notification: ChangeNotification): void {
    if (notification.projection !== 'timeline') return;
    for (const change of notification.changes) {
      if (change.kind !== 'message') continue;
      const listeners = this.listeners.get(change.conversationId);
      if (!listeners) continue;
      const message = { ...change.message, conversationId: change.conversationId };
      for (const listener of listeners) listener(message);
    }
  }

  /** Messages of one conversation as they are stored, until `return()` is called. */
  listen(conversationId: string, listener: Listener): () => void {
    const set = this.listeners.get(conversationId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(conversationId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(conversationId);
    };
  }
}

/**
 * `history` (messages after a cursor, read from the timeline) then live ones, with no gap and
 * no duplicate: listening starts before history is read, and anything at or before the last
 * position already sent is dropped.
 */
export async function* gaplessMessages<T>(
  live: LiveUpdates,
  conversationId: string,
  history: (() => AsyncIterable<LiveMessage>) | undefined,
  toPayload: (message: LiveMessage) => T,
): AsyncGenerator<T> {
  const queue: LiveMessage[] = [];
  let wake: (() => void) | undefined;
  const stopListening = live.listen(conversationId, (message) => {
    queue.push(message);
    wake?.();
  });
  let last = -1n;
  try {
    if (history) {
      for await (const message of history()) {
        last = BigInt(message.offset);
        yield toPayload(message);
      }
    }
    for (;;) {
      while (queue.length > 0) {
        const message = queue.shift()!;
        if (BigInt(message.offset) <= last) continue;
        last = BigInt(message.offset);
        yield toPayload(message);
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    stopListening();
  }
}
