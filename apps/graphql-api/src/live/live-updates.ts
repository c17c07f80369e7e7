import {
  changesChannel,
  conversationChannel,
  createRedis,
  type ChangeNotification,
  type ConversationNotification,
  type RedisClient,
  type RedisConfig,
} from '@parley/redis';
import type { Change } from '@parley/projections';
import { apiMetrics } from '../metrics/api-metrics';
import type { PresenceView } from '../presence';

export type { LiveMessage } from '@parley/redis';
export type InboxChange = Extract<Change, { kind: 'inbox' }>;
export type InboxHeadChange = Extract<Change, { kind: 'inbox-head' }>;
/** What a conversation's followers hear: its notifications, and `resync` after Redis was out of reach (some may be lost). */
export type ConversationSignal = ConversationNotification | { readonly kind: 'resync' };

/** Presence transitions, published by whichever instance holds the socket. */
export const presenceChannel = (namespace: string) => `parley:${namespace}:online:v1:changes`;

interface Topics {
  conversation: ConversationSignal;
  inbox: InboxChange;
  'inbox-head': InboxHeadChange;
  presence: PresenceView;
}
type Topic = keyof Topics;

/**
 * Live updates for this API instance, fanned out in memory by key (a conversation, a user).
 * Each conversation followed here is one Redis channel, subscribed while someone follows it
 * (its writer publishes there: docs/adr/0009); inbox changes come from the projector's channel,
 * presence from the instances holding the sockets.
 */
export class LiveUpdates {
  private readonly subscriber: RedisClient;
  private readonly listeners = new Map<string, Set<(value: never) => void>>();
  /** Conversation channels subscribed (or being subscribed), by conversation id. */
  private readonly followed = new Map<string, Promise<unknown>>();
  private readonly channelPrefix: string;
  private disconnected = false;

  constructor(
    redis: RedisConfig,
    private readonly namespace: string,
  ) {
    this.channelPrefix = conversationChannel(namespace, '');
    this.subscriber = createRedis(redis, 'api-live-updates');
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel.startsWith(this.channelPrefix)) this.dispatchConversation(channel.slice(this.channelPrefix.length), JSON.parse(raw) as ConversationNotification);
      else if (channel === presenceChannel(namespace)) this.emit('presence', '*', JSON.parse(raw) as PresenceView);
      else this.dispatch(JSON.parse(raw) as ChangeNotification);
    });
    this.subscriber.on('close', () => (this.disconnected = true));
    this.subscriber.on('ready', () => {
      if (this.disconnected) void this.resync();
    });
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(changesChannel(this.namespace), presenceChannel(this.namespace));
  }

  async stop(): Promise<void> {
    await this.subscriber.quit().catch(() => undefined);
  }

  /**
   * Redis was out of reach: what was published meanwhile is lost. Once every channel is
   * subscribed again, each follower fills what it missed from the timeline.
   */
  private async resync(): Promise<void> {
    this.disconnected = false;
    const conversations = [...this.followed.keys()];
    try {
      if (conversations.length > 0) await this.subscriber.subscribe(...conversations.map((id) => conversationChannel(this.namespace, id)));
    } catch {
      return; // disconnected again: the next 'ready' resyncs
    }
    for (const id of conversations) this.emit('conversation', id, { kind: 'resync' });
  }

  private dispatchConversation(conversationId: string, notification: ConversationNotification): void {
    if (notification.kind === 'message') apiMetrics.deliveryLatency.observe(Math.max(0, Date.now() - Date.parse(notification.message.sentAt)) / 1000);
    this.emit('conversation', conversationId, notification);
  }

  private dispatch(notification: ChangeNotification): void {
    if (notification.projection !== 'inbox') return;
    for (const change of notification.changes) {
      if (change.kind === 'inbox') this.emit('inbox', change.userId, change);
      else if (change.kind === 'inbox-head') this.emit('inbox-head', change.conversationId, change);
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
      if (set.size > 0) return;
      this.listeners.delete(id);
      if (topic === 'conversation') this.unfollow(key);
    };
  }

  /**
   * Listens to a conversation once its channel is subscribed: everything published from then
   * on reaches `listener`, in the order its writer published it.
   */
  async follow(conversationId: string, listener: (signal: ConversationSignal) => void): Promise<() => void> {
    const stop = this.listen('conversation', conversationId, listener);
    let subscribed = this.followed.get(conversationId);
    if (!subscribed) {
      subscribed = this.subscriber.subscribe(conversationChannel(this.namespace, conversationId));
      this.followed.set(conversationId, subscribed);
    }
    try {
      await subscribed;
    } catch (err) {
      if (this.followed.get(conversationId) === subscribed) this.followed.delete(conversationId);
      stop();
      throw err;
    }
    return stop;
  }

  private unfollow(conversationId: string): void {
    this.followed.delete(conversationId);
    this.subscriber.unsubscribe(conversationChannel(this.namespace, conversationId)).catch(() => undefined);
  }
}

/** How a PushIterator bounds what waits for a slow consumer. */
export interface QueuePolicy<T> {
  /** Values with the same key replace each other while they wait (the newest kept, in the first one's place); undefined: never replaced. */
  readonly key?: (value: T) => string | undefined;
  /** At most this many values wait; one more replaces them all with `overflow()`. */
  readonly limit?: number;
  readonly overflow?: () => T;
}

/**
 * An async iterator fed by pushes. Unlike an async generator, `return()` completes at once
 * even while a `next()` waits (graphql-ws calls it when a client unsubscribes), so no
 * listener outlives its subscription. What waits for a slow consumer is bounded by `policy`.
 */
export class PushIterator<T> implements AsyncIterableIterator<T> {
  private queue: Array<{ value: T; readonly key?: string }> = [];
  private readonly keyed = new Map<string, { value: T }>();
  private waiting?: (result: IteratorResult<T>) => void;
  private finished = false;

  constructor(
    private readonly onReturn: () => void,
    private readonly policy: QueuePolicy<T> = {},
  ) {
    apiMetrics.subscriptionsOpen.inc();
  }

  push(value: T): void {
    if (this.finished) return;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) return waiting({ value, done: false });
    const key = this.policy.key?.(value);
    const same = key === undefined ? undefined : this.keyed.get(key);
    if (same) {
      same.value = value;
    } else if (this.policy.limit !== undefined && this.queue.length >= this.policy.limit) {
      apiMetrics.slowConsumerOverflows.inc();
      this.keyed.clear();
      this.queue = [{ value: this.policy.overflow!() }];
    } else {
      const entry = { value, key };
      this.queue.push(entry);
      if (key !== undefined) this.keyed.set(key, entry);
    }
  }

  next(): Promise<IteratorResult<T>> {
    const entry = this.queue.shift();
    if (entry) {
      if (entry.key !== undefined) this.keyed.delete(entry.key);
      return Promise.resolve({ value: entry.value, done: false });
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.finished) {
      this.finished = true;
      this.queue = [];
      this.keyed.clear();
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

/**
 * A feed as a subscription's iterator: `body` reads `signals` and yields what is sent. However
 * the feed ends, and when the subscriber goes (even while a signal is awaited), `signals` stops.
 */
export function feedIterator<T>(signals: { return(): Promise<unknown> }, body: AsyncGenerator<T>): AsyncIterableIterator<T> {
  async function* run(): AsyncGenerator<T> {
    try {
      yield* body;
    } finally {
      await signals.return();
    }
  }
  const feed = run();
  const iterator: AsyncIterableIterator<T> = {
    next: () => feed.next(),
    async return() {
      await signals.return();
      return feed.return(undefined);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
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
