import type { PartitionOffsets, RecordedEvent } from '@parley/event-log';
import type { ReadModelStore } from './read-model-store.port';

/**
 * Where each partition's committed checkpoint stands, so that a projection skips events it has
 * already committed.
 *
 * Why: a checkpoint is committed together with the projection's state (counters such as
 * `last_seq`), so every event before it is fully applied. Applying such an event again starts
 * from counters that already include it: a message would get a second, higher number (and win
 * the write-time tie against its first one), and events that preceded a ConversationCreated
 * would suddenly apply. Events before the checkpoint reach a projection when the log is read
 * again from an older position (redelivery, a restart from an earlier offset, a replay on the
 * same storage). Events at or after the checkpoint are still applied: storage may be ahead of
 * the checkpoint after a crash, and write times from log positions make rewriting it harmless.
 */
export class CommittedOffsets {
  private offsets: Map<number, bigint> | undefined;
  /** Partitions that had a checkpoint when the checkpoints were loaded. */
  private stored = new Set<number>();

  constructor(private readonly load: () => Promise<PartitionOffsets>) {}

  /**
   * The events of a chunk not yet committed, or null when the whole chunk (up to `nextOffset`)
   * already is: then nothing may be written, not even the (older) checkpoint.
   */
  async unapplied(partition: number, events: readonly RecordedEvent[], nextOffset: string): Promise<readonly RecordedEvent[] | null> {
    if (!this.offsets) {
      this.offsets = new Map([...(await this.load())].map(([p, offset]) => [p, BigInt(offset)]));
      this.stored = new Set(this.offsets.keys());
    }
    const committed = this.offsets.get(partition);
    if (committed === undefined) return events;
    if (BigInt(nextOffset) <= committed) return null;
    // In log order: usually the whole chunk is past the checkpoint.
    if (events.length === 0 || BigInt(events[0].position.offset) >= committed) return events;
    return events.filter((e) => BigInt(e.position.offset) >= committed);
  }

  /**
   * True when storage had no checkpoint of the partition when the checkpoints were loaded (by
   * the first `unapplied` since construction or `reset`), and stays so after this instance
   * commits: this instance then applies the partition from the start of the log, and storage
   * holds no state of the partition's conversations, which is only ever committed with a
   * checkpoint. Storage may still hold data rows of an earlier attempt that never committed.
   */
  startedEmpty(partition: number): boolean {
    if (!this.offsets) throw new Error('startedEmpty() before the checkpoints were loaded (call unapplied() first)');
    return !this.stored.has(partition);
  }

  /** Call once the checkpoint is committed. */
  committed(partition: number, nextOffset: string): void {
    const offset = BigInt(nextOffset);
    const current = this.offsets?.get(partition);
    if (this.offsets && (current === undefined || offset > current)) this.offsets.set(partition, offset);
  }

  /** Forgets what was loaded (after a failed apply the checkpoint may have moved, or not). */
  reset(): void {
    this.offsets = undefined;
  }
}

/**
 * How far past the chunk a raised write mark reaches (chunk spans, and offsets at least), so
 * that it is raised once every few chunks only, also for the small chunks of a live projection.
 */
const MARK_AHEAD_SPANS = 4n;
const MARK_AHEAD_MIN = 1_000n;

/**
 * The mark of a partition whose storage was written before write marks existed: rows of any
 * offset may be there. The largest offset whose write time (offset * 16 + 15) Cassandra still takes.
 */
export const UNKNOWN_WRITE_MARK = (1n << 59n) - 1n;

/**
 * What storage can hold of a partition's events ahead of its checkpoint: a crashed or failed
 * apply may have written rows of events it never committed, and replaying those events must
 * then delete what they left behind, even rows that a clean replay would never write. The
 * store's write marks bound that region (ReadModelStore.raiseWriteMark, raised before rows are
 * written), and this instance knows what it wrote itself: rows of events past both were never
 * written, so a chunk need not delete what only its own events would have created.
 */
export class WriteMarks {
  private loaded: Map<number, bigint> | undefined;
  /** The marks in storage, as this instance raised them. */
  private stored = new Map<number, bigint>();
  /** Per partition, the end of the chunks this instance started writing. */
  private readonly written = new Map<number, bigint>();

  constructor(private readonly store: Pick<ReadModelStore, 'writeMarks' | 'raiseWriteMark'>) {}

  /**
   * Call before writing the rows of a chunk (events from `firstOffset`, up to `nextOffset`);
   * `checkpointed`: storage had a checkpoint of the partition when this instance loaded them.
   * Returns the offset from which no row derived from the partition's events was ever written
   * (by an earlier instance or by this one), and raises the stored mark over the chunk first.
   */
  async beforeWriting(partition: number, firstOffset: string, nextOffset: string, checkpointed: boolean): Promise<bigint> {
    if (!this.loaded) {
      this.loaded = new Map([...(await this.store.writeMarks())].map(([p, offset]) => [p, BigInt(offset)]));
      this.stored = new Map(this.loaded);
    }
    // Checkpointed but never marked: written before write marks existed, anything may be there.
    if (checkpointed && !this.loaded.has(partition)) this.loaded.set(partition, UNKNOWN_WRITE_MARK);
    const loaded = this.loaded.get(partition) ?? 0n;
    const mine = this.written.get(partition) ?? 0n;
    const unwrittenFrom = maxOf(loaded, mine);
    const next = BigInt(nextOffset);
    if (next > mine) this.written.set(partition, next);
    if ((this.stored.get(partition) ?? -1n) < maxOf(next, loaded)) {
      const span = next - BigInt(firstOffset);
      const ahead = MARK_AHEAD_SPANS * span > MARK_AHEAD_MIN ? MARK_AHEAD_SPANS * span : MARK_AHEAD_MIN;
      const mark = loaded === UNKNOWN_WRITE_MARK ? UNKNOWN_WRITE_MARK : next + ahead;
      await this.store.raiseWriteMark(partition, mark.toString());
      this.stored.set(partition, mark);
    }
    return unwrittenFrom;
  }

  /** Forgets the marks (after a failed apply a raise may have landed, or not), not what this instance wrote. */
  reset(): void {
    this.loaded = undefined;
    this.stored.clear();
  }
}

const maxOf = (a: bigint, b: bigint): bigint => (a > b ? a : b);
