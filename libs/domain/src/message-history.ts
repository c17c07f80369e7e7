import type { SentMessage } from './conversation.state';

/**
 * The messages of a conversation by id, as an immutable value that appends in O(1).
 *
 * Copying a Map on every MessageSent made replaying a stream quadratic (10,000 messages took
 * about 24 s). Instead, successive versions share one append-only store and each version sees
 * only the first `size` entries of it, so no version ever observes a change. Appending to the
 * newest version writes to the shared store in place; appending to an older version (a branch,
 * e.g. two decisions tried on the same state) copies that version's prefix first.
 */
export class MessageHistory implements ReadonlyMap<string, SentMessage> {
  private constructor(
    private readonly store: MessageStore,
    readonly size: number,
  ) {}

  static empty(): MessageHistory {
    return new MessageHistory(new MessageStore(), 0);
  }

  /** This history with the message added, or this history itself when its id is already there. */
  with(message: SentMessage): MessageHistory {
    if (this.has(message.messageId)) return this;
    const store = this.store.length === this.size ? this.store : this.store.prefix(this.size);
    store.append(message);
    return new MessageHistory(store, this.size + 1);
  }

  get(messageId: string): SentMessage | undefined {
    const index = this.store.indexOf(messageId);
    return index !== undefined && index < this.size ? this.store.at(index) : undefined;
  }

  has(messageId: string): boolean {
    return this.get(messageId) !== undefined;
  }

  /** The same history seen as the set of its message ids. */
  get ids(): ReadonlySet<string> {
    return new MessageIdSet(this);
  }

  *values(): MapIterator<SentMessage> {
    for (let index = 0; index < this.size; index++) yield this.store.at(index);
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

class MessageStore {
  private readonly messages: SentMessage[] = [];
  private readonly indexById = new Map<string, number>();

  get length(): number {
    return this.messages.length;
  }

  at(index: number): SentMessage {
    return this.messages[index];
  }

  indexOf(messageId: string): number | undefined {
    return this.indexById.get(messageId);
  }

  append(message: SentMessage): void {
    this.indexById.set(message.messageId, this.messages.length);
    this.messages.push(message);
  }

  prefix(length: number): MessageStore {
    const copy = new MessageStore();
    for (const message of this.messages.slice(0, length)) copy.append(message);
    return copy;
  }
}
