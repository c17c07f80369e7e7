import type { ReadModelStore, RowMutation, TableDefinition } from './read-model-store.port';
import { writeTimeOf } from './read-model-store.port';

/** Messages of a conversation per Cassandra partition of a table: bounds every partition's size. */
export const OFFSETS_PER_BUCKET = 100_000n;
export const bucketOf = (offset: string): bigint => BigInt(offset) / OFFSETS_PER_BUCKET;

/**
 * A message's number in its conversation: the one its writer recorded (MessageSent.seq, what
 * subscribers see), or, for events written before numbers were recorded, the previous one + 1.
 */
export const messageSeq = (previous: bigint, recorded: number | undefined): bigint => (recorded !== undefined ? BigInt(recorded) : previous + 1n);

const MAX_REMEMBERED_IDS = 200_000;

export const messageIdsTable = (prefix: string): TableDefinition => ({
  name: `${prefix}_message_ids`,
  columns: { conversation_id: 'text', message_id: 'text', offset: 'bigint' },
  partitionKey: ['conversation_id', 'message_id'],
});

/**
 * Recognises duplicate MessageSent records (a retried append under the same message id): the
 * first occurrence in log order wins. Lookups of one chunk are fetched in parallel up front.
 *
 * Lookups are skipped where they cannot find anything: in a partition this instance applies
 * from the start of the log (storage had no checkpoint for it), every first occurrence passes
 * through this instance before its duplicates do, so an id it has never seen is new. Ids it
 * had to forget (memory is bounded) are summarised in Bloom filters: an id they may hold is
 * looked up, one they cannot hold is still known to be new.
 */
export class MessageDeduplicator {
  private readonly firstOffset = new Map<string, string>();
  /** Every id forgotten since the last reset (no false negatives). */
  private forgotten: BloomFilter[] = [];

  constructor(
    private readonly store: ReadModelStore,
    private readonly table: string,
    private readonly maxRemembered = MAX_REMEMBERED_IDS,
  ) {}

  private key = (conversationId: string, messageId: string) => `${conversationId}\n${messageId}`;

  /**
   * Fetches what storage knows about the chunk's message ids. `fromStart`: the chunk's partition
   * is applied by this instance from the start of the log (no checkpoint was stored for it when
   * the checkpoints were loaded, since the last reset), so storage holds no first occurrence
   * this instance has not seen.
   */
  async prefetch(messages: ReadonlyArray<{ conversationId: string; messageId: string; seq?: number }>, fromStart = false): Promise<void> {
    messages = messages.filter((m) => !m.seq); // numbered messages are never duplicates (isDuplicate)
    // Bounded memory: forgotten ids are looked up in storage again. Forget only here, between
    // chunks, never in the middle of one (isDuplicate used to): the ids this chunk recorded
    // are not in storage before its end, and the ids just fetched would not be fetched again,
    // so a duplicate later in the same chunk was taken for a new message and numbered again.
    if (this.firstOffset.size + messages.length > this.maxRemembered) this.forget();
    if (fromStart && this.forgotten.length === 0) return; // nothing to look up: every first occurrence passed through here
    const missing = messages.filter((m) => {
      const key = this.key(m.conversationId, m.messageId);
      if (this.firstOffset.has(key)) return false;
      if (!fromStart) return true;
      const hashes = hashPair(key);
      return this.forgotten.some((f) => f.mayHaveHashed(hashes));
    });
    const rows = await Promise.all(
      missing.map((m) => this.store.get(this.table, { conversation_id: m.conversationId, message_id: m.messageId })),
    );
    missing.forEach((m, i) => {
      const row = rows[i];
      if (row) this.firstOffset.set(this.key(m.conversationId, m.messageId), String(row.offset));
    });
  }

  private forget(): void {
    const filter = new BloomFilter(this.firstOffset.size);
    for (const key of this.firstOffset.keys()) filter.add(key);
    this.forgotten.push(filter);
    this.firstOffset.clear();
  }

  /**
   * True when an earlier offset already carried this message; otherwise records this one. A
   * numbered message (MessageSent.seq, written since ADR 0009) is never a duplicate: its writer
   * appends a message id once, looking an old retry up before appending (ADR 0008); nothing is
   * looked up, remembered or written for it.
   */
  isDuplicate(conversationId: string, messageId: string, offset: string, data: RowMutation[], seq?: number): boolean {
    if (seq) return false;
    const key = this.key(conversationId, messageId);
    const first = this.firstOffset.get(key);
    if (first !== undefined && BigInt(first) < BigInt(offset)) return true;
    this.firstOffset.set(key, offset);
    data.push(this.row(conversationId, messageId, offset));
    return false;
  }

  private row(conversationId: string, messageId: string, offset: string): RowMutation {
    return { table: this.table, key: { conversation_id: conversationId, message_id: messageId }, values: { offset: BigInt(offset) }, writeTime: writeTimeOf(offset) };
  }

  reset(): void {
    this.firstOffset.clear();
    this.forgotten = [];
  }
}

/** A set that may answer "maybe" for a string it does not hold (about 0.1% of them), never "no" for one it holds. */
export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly size: number;
  private readonly hashes = 10;

  /** Sized for `capacity` strings at a 0.1% false-positive rate (14.4 bits each). */
  constructor(capacity: number, bits?: Uint8Array) {
    this.size = Math.max(64, Math.ceil(Math.max(1, capacity) * 14.4));
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
    if (bits) {
      if (bits.byteLength !== this.bits.byteLength) throw new Error(`a Bloom filter of capacity ${capacity} has ${this.bits.byteLength} bytes, not ${bits.byteLength}`);
      new Uint8Array(this.bits.buffer).set(bits);
    }
  }

  /** Its bits, to store (a copy); `new BloomFilter(capacity, bytes)` gives the filter back. */
  toBytes(): Uint8Array {
    return new Uint8Array(this.bits.buffer.slice(0));
  }

  add(value: string): void {
    const [h1, h2] = hashPair(value);
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + i * h2) % this.size;
      this.bits[bit >>> 5] |= 1 << (bit & 31);
    }
  }

  mayHave(value: string): boolean {
    return this.mayHaveHashed(hashPair(value));
  }

  /** `mayHave` with the value's hashPair computed once for several filters. */
  mayHaveHashed([h1, h2]: readonly [number, number]): boolean {
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + i * h2) % this.size;
      if ((this.bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two independent 32-bit hashes (FNV-1a from two bases, each finished by murmur3's mix), for double hashing. */
export function hashPair(value: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return [mix(a) >>> 0, (mix(b) | 1) >>> 0];
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
