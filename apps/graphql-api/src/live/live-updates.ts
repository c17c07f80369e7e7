import { changesChannel, createRedis, type ChangeNotification, type RedisClient, type RedisConfig } from '@parley/redis';
import type { Change } from '@parley/projections';
import { apiMetrics } from '../metrics/api-metrics';
import type { PresenceView } from '../presence';

export type LiveMessage = Extract<Change, { kind: 'message' }>['message'] & { conversationId: string };
export type InboxChange = Extract<Change, { kind: 'inbox' }>;

/** Presence transitions, published by whichever instance holds the socket. */
export const presenceChannel = (namespace: string) => `parley:${namespace}:online:v1:changes`;

interface Topics {
  message: LiveMessage;
  inbox: InboxChange;
  presence: PresenceView;
}
type Topic = keyof Topics;

/**
 * Live updates for this API instance: one Redis subscription to the projector's change
 * notifications and to presence changes, fanned out in memory by key (a conversation, a
 * user). A message or inbox change arrives only after its projection has stored it.
 */
export class LiveUpdates {
  private readonly subscriber: RedisClient;
  private readonly listeners = new Map<string, Set<(value: never) => void>>();

  constructor(
    redis: RedisConfig,
    private readonly namespace: string,
  ) {
    this.subscriber = createRedis(redis, 'api-live-updates');
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel === presenceChannel(namespace)) this.emit('presence', '*', JSON.parse(raw) as PresenceView);
      else this.dispatch(JSON.parse(raw) as ChangeNotification);
    });
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(changesChannel(this.namespace), presenceChannel(this.namespace));
  }

  async stop(): Promise<void> {
    await this.subscriber.quit().catch(() => undefined);
  }

  private dispatch(notification: ChangeNotification): void {
    for (const change of notification.changes) {
      if (notification.projection === 'timeline' && change.kind === 'message') {
        apiMetrics.deliveryLatency.observe(Math.max(0, Date.now() - Date.parse(change.message.sentAt)) / 1000);
        this.emit('message', change.conversationId, { ...change.message, conversationId: change.conversationId });
      } else if (notification.projection === 'inbox' && change.kind === 'inbox') {
        this.emit('inbox', change.userId, change);
      }
    }
  }

  private emit<T extends Topic>(topic: T, key: string, value: Topics[T]): void {
    for (const listener of this.listeners.get(`${topic}:${key}`) ?? []) (listener as (v: Topics[T]) => void)(value);
  }

  /** Calls `listener` for every update of `topic` under `key` ('*' for presence) until the returned function is called. */
  listen<T extends Topic>(topic: T, key: string, listener: (value: Topics[T]) => void): () => void {
    const id = `${topic}:${key}`;
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener as (value: never) => void);
    this.listeners.set(id, set);
    return () => {
      set.delete(listener as (value: never) => void);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  /** The updates as an async iterator (for a subscription); stops listening when returned. */
  iterate<T extends Topic>(topic: T, key: string): PushIterator<Topics[T]> {
    const iterator: PushIterator<Topics[T]> = new PushIterator(() => stop());
    const stop = this.listen(topic, key, (value) => iterator.push(value));
    return iterator;
  }
}

/**
 * An async iterator fed by pushes. Unlike an async generator, `return()` completes at once
 * even while a `next()` waits (graphql-ws calls it when a client unsubscribes), so no
 * listener outlives its subscription.
 */
export class PushIterator<T> implements AsyncIterableIterator<T> {
  private queue: T[] = [];
  private waiting?: (result: IteratorResult<T>) => void;
  private finished = false;

  constructor(private readonly onReturn: () => void) {
    apiMetrics.subscriptionsOpen.inc();
  }

  push(value: T): void {
    if (this.finished) return;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting({ value, done: false });
    else this.queue.push(value);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.finished) {
      this.finished = true;
      this.queue = [];
      this.onReturn();
      apiMetrics.subscriptionsOpen.dec();
      this.waiting?.({ value: undefined, done: true });
      this.waiting = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Maps (and, where `map` gives undefined, drops) the values of an iterator, passing `return()` through. */
export function mapIterator<T, P>(source: AsyncIterator<T>, map: (value: T) => Promise<P | undefined> | P | undefined): AsyncIterableIterator<P> {
  return {
    async next(): Promise<IteratorResult<P>> {
      for (;;) {
        const result = await source.next();
        if (result.done) return { value: undefined, done: true };
        const mapped = await map(result.value);
        if (mapped !== undefined) return { value: mapped, done: false };
      }
    },
    async return(): Promise<IteratorResult<P>> {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * `history` (messages after a cursor, read from the timeline) then live ones, with no gap and
 * no duplicate: listening starts before history is read, and anything at or before the last
 * position already sent is dropped.
 */
export function gaplessMessages<T>(
  live: LiveUpdates,
  conversationId: string,
  history: AsyncIterable<LiveMessage> | undefined,
  toPayload: (message: LiveMessage) => T,
): AsyncIterableIterator<T> {
  const liveMessages = live.iterate('message', conversationId); // listening before history is read
  const past = history?.[Symbol.asyncIterator]();
  let pastDone = past === undefined;
  let last = -1n;
  const fresh = (message: LiveMessage) => {
    if (BigInt(message.offset) <= last) return undefined;
    last = BigInt(message.offset);
    return toPayload(message);
  };
  const source: AsyncIterator<LiveMessage> = {
    async next() {
      while (!pastDone) {
        const result = await past!.next();
        if (!result.done) return result;
        pastDone = true;
      }
      return liveMessages.next();
    },
    async return() {
      await Promise.all([liveMessages.return(), past?.return?.()]);
      return { value: undefined, done: true };
    },
  };
  return mapIterator(source, fresh);
}
