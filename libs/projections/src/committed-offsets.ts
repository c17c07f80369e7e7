import type { PartitionOffsets, RecordedEvent } from '@parley/event-log';

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

  constructor(private readonly load: () => Promise<PartitionOffsets>) {}

  /**
   * The events of a chunk not yet committed, or null when the whole chunk (up to `nextOffset`)
   * already is: then nothing may be written, not even the (older) checkpoint.
   */
  async unapplied(partition: number, events: readonly RecordedEvent[], nextOffset: string): Promise<readonly RecordedEvent[] | null> {
    if (!this.offsets) {
      this.offsets = new Map([...(await this.load())].map(([p, offset]) => [p, BigInt(offset)]));
    }
    const committed = this.offsets.get(partition);
    if (committed === undefined) return events;
    if (BigInt(nextOffset) <= committed) return null;
    return events.filter((e) => BigInt(e.position.offset) >= committed);
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
