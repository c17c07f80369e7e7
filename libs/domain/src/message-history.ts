import type { SentMessage } from './conversation.state';
import { comparePositions, type LogPosition } from './log-position';

/** How many of a conversation's latest messages its state keeps, to answer retries from memory. */
export const RECENT_MESSAGES = 64;

/**
 * The latest messages of a conversation by id (at most `capacity`), as an immutable value
 * that appends in amortised O(1): the state of a conversation stays the same size however
 * many messages it has. A retry of an older message is recognised outside the state (the
 * command service looks the id up in the read model once the messages up to
 * `evictedThrough` are projected).
 *
 * Successive versions share one append-only store, and each sees only its own window of it,
 * so no version ever observes a change. Appending to the newest version writes to the shared
 * store in place (which drops what no recent version can see once it holds 3x the capacity);
 * appending to an older version (a branch, e.g. two decisions tried on the same state) copies
 * that version's window first. Versions up to `capacity` appends behind the newest stay intact.
 */
export class MessageHistory implements ReadonlyMap<string, SentMessage> {
  private constructor(
    private readonly store: MessageStore,
    /** Absolute index (in the conversation) after this version's last message. */
    private readonly end: number,
    readonly capacity: number,
    /** Whether messages have slid out of the window. */
    readonly hasEvicted: boolean,
    /** The position of the latest message that slid out of the window (null if none had one). */
    readonly evictedThrough: LogPosition | null,
  ) {}

  static empty(capacity = RECENT_MESSAGES): MessageHistory {
    return new MessageHistory(new MessageStore(0), 0, capacity, false, null);
  }

  /**
   * The history of a conversation whose messages are all out of memory (its state was restored
   * from a snapshot): none in the window; a retry of any is for the read model to tell.
   */
  static allEvicted(evictedThrough: LogPosition | null, capacity = RECENT_MESSAGES): MessageHistory {
    return new MessageHistory(new MessageStore(0), 0, capacity, evictedThrough !== null, evictedThrough);
  }

  /** A history holding `messages` (the latest, in order), as a snapshot kept them. */
  static restored(messages: readonly SentMessage[], hasEvicted: boolean, evictedThrough: LogPosition | null, capacity = RECENT_MESSAGES): MessageHistory {
    let history = new MessageHistory(new MessageStore(0), 0, capacity, hasEvicted, evictedThrough);
    for (const message of messages.slice(-capacity)) history = history.with(message);
    return history;
  }

  private get start(): number {
    return Math.max(0, this.end - this.capacity);
  }

  /** Messages in the window. */
  get size(): number {
    return this.end - this.start;
  }

  /** This history with the message added, or this history itself when its id is in the window. */
  with(message: SentMessage): MessageHistory {
    if (this.has(message.messageId)) return this;
    const store = this.store.end === this.end ? this.store : this.store.window(this.start, this.end);
    store.append(message);
    const end = this.end + 1;
    const leaving = end > this.capacity ? store.at(end - this.capacity - 1) : undefined;
    store.forgetBefore(end - 2 * this.capacity, 3 * this.capacity);
    return new MessageHistory(store, end, this.capacity, this.hasEvicted || leaving !== undefined, leaving?.position ?? this.evictedThrough);
  }

  get(messageId: string): SentMessage | undefined {
    const index = this.store.indexOf(messageId);
    return index !== undefined && index >= this.start && index < this.end ? this.store.at(index) : undefined;
  }

  has(messageId: string): boolean {
    return this.get(messageId) !== undefined;
  }

  /**
   * How many messages come after `position`, when the window tells: it holds a message at or
   * before it, or has never let one slide out. Null when it cannot (or a message has no position).
   */
  countAfter(position: LogPosition): number | null {
    let newer = 0;
    for (let index = this.end - 1; index >= this.start; index--) {
      const at = this.store.at(index)!.position;
      if (at === null) return null;
      if (comparePositions(at, position) <= 0) return newer;
      newer++;
    }
    return this.hasEvicted ? null : newer;
  }

  /** The same window seen as the set of its message ids. */
  get ids(): ReadonlySet<string> {
    return new MessageIdSet(this);
  }

  *values(): MapIterator<SentMessage> {
    for (let index = this.start; index < this.end; index++) yield this.store.at(index)!;
  }

  *keys(): MapIterator<string> {
    for (const message of this.values()) yield message.messageId;
  }

  *entries(): MapIterator<[string, SentMessage]> {
    for (const message of this.values()) yield [message.messageId, message];
  }

  [Symbol.iterator](): MapIterator<[string, SentMessage]> {
    return this.entries();
  }

  forEach(callback: (message: SentMessage, messageId: string, history: ReadonlyMap<string, SentMessage>) => void): void {
    for (const message of this.values()) callback(message, message.messageId, this);
  }
}

class MessageIdSet implements ReadonlySet<string> {
  constructor(private readonly history: MessageHistory) {}

  get size(): number {
    return this.history.size;
  }

  has(messageId: string): boolean {
    return this.history.has(messageId);
  }

  keys(): SetIterator<string> {
    return this.history.keys();
  }

  values(): SetIterator<string> {
    return this.history.keys();
  }

  *entries(): SetIterator<[string, string]> {
    for (const messageId of this.history.keys()) yield [messageId, messageId];
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.history.keys();
  }

  forEach(callback: (messageId: string, same: string, set: ReadonlySet<string>) => void): void {
    for (const messageId of this.history.keys()) callback(messageId, messageId, this);
  }
}

/** Messages by absolute index from `base` on; what lies before `base` has been dropped. */
class MessageStore {
  private messages: SentMessage[] = [];
  private readonly indexById = new Map<string, number>();

  constructor(private base: number) {}

  get end(): number {
    return this.base + this.messages.length;
  }

  at(index: number): SentMessage | undefined {
    return index >= this.base ? this.messages[index - this.base] : undefined;
  }

  indexOf(messageId: string): number | undefined {
    return this.indexById.get(messageId);
  }

  append(message: SentMessage): void {
    this.indexById.set(message.messageId, this.end);
    this.messages.push(message);
  }

  /** Once it holds more than `limit` messages, drops those before `index`. */
  forgetBefore(index: number, limit: number): void {
    if (this.messages.length <= limit || index <= this.base) return;
    const dropped = this.messages.slice(0, index - this.base);
    this.messages = this.messages.slice(index - this.base);
    this.base = index;
    for (const message of dropped) if ((this.indexById.get(message.messageId) ?? Infinity) < index) this.indexById.delete(message.messageId);
  }

  /** A new store holding [start, end) of this one. */
  window(start: number, end: number): MessageStore {
    const copy = new MessageStore(start);
    for (let index = start; index < end; index++) copy.append(this.at(index)!);
    return copy;
  }
}
