import type { ConversationEventType } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
import { CommittedOffsets, WriteMarks } from './committed-offsets';
import { MessageDeduplicator } from './message-sequencer';
import type { Change, Projection } from './projection';
import { coalesce, type ReadModelStore, type RowMutation, type TableDefinition } from './read-model-store.port';

/** What one chunk of events changes, in the order it must be stored. */
export interface ChunkPlan {
  /** Rows derived from the events, keyed by event or message: idempotent. */
  readonly data: RowMutation[];
  /** Who is a member since when: what later decisions read (see `apply`). */
  readonly membership: RowMutation[];
  /** What the projection continues from, committed with the checkpoint. */
  readonly state: RowMutation[];
  /**
   * The state counts on from the chunk's events (messages without a number): it is committed
   * atomically with the checkpoint, or a replay after a crash in between would count them twice.
   */
  readonly counted: boolean;
  readonly changes: Change[];
}

/** What storage holds of the chunk's partition, for `plan`. */
export interface PlanContext {
  /**
   * Storage had no checkpoint of the partition when this instance loaded them (see
   * CommittedOffsets.startedEmpty): it holds no state of the partition's conversations, and
   * nothing this instance would read that it did not write itself.
   */
  readonly startedEmpty: boolean;
  /** No row derived from an event of the partition at or after this offset was ever written (see WriteMarks). */
  readonly unwrittenFrom: bigint;
}

/**
 * The skeleton shared by the Cassandra-table projections (timeline, inbox): skip what is
 * committed already, plan the chunk, store it in a crash-safe order, commit state with the
 * checkpoint. Subclasses only say how a chunk of events becomes rows.
 */
export abstract class ConversationTableProjection implements Projection {
  abstract readonly name: string;
  abstract readonly handles: ReadonlySet<ConversationEventType>;
  /** Tables a chunk may write a row of more than once: their mutations are coalesced before writing. */
  protected abstract readonly rewrittenTables: ReadonlySet<string>;
  protected readonly dedup: MessageDeduplicator;
  private readonly committed: CommittedOffsets;
  private readonly marks: WriteMarks;

  constructor(
    protected readonly store: ReadModelStore,
    readonly version: number,
    private readonly tables: Readonly<Record<string, TableDefinition>> & { readonly messageIds: TableDefinition },
  ) {
    this.dedup = new MessageDeduplicator(store, tables.messageIds.name);
    this.committed = new CommittedOffsets(() => store.checkpoints());
    this.marks = new WriteMarks(store);
  }

  createStorage = () => this.store.createTables(Object.values(this.tables));
  dropStorage = async () => {
    await this.store.dropTables(Object.values(this.tables));
    this.reset(); // what was cached, and the checkpoint, went with the tables
  };
  checkpoints = () => this.store.checkpoints();

  reset(): void {
    this.clearCache();
    this.dedup.reset();
    this.committed.reset();
    this.marks.reset();
  }

  /** Forget per-conversation state cached from storage. */
  protected abstract clearCache(): void;

  /** Turns events (none of them committed yet) into rows; may read storage, must not write it. */
  protected abstract plan(partition: number, events: readonly RecordedEvent[], nextOffset: string, context: PlanContext): Promise<ChunkPlan>;

  async apply(partition: number, chunk: readonly RecordedEvent[], nextOffset: string): Promise<Change[]> {
    // Events before the checkpoint are applied already, and the cached counters include them:
    // applying them again would renumber their messages (see CommittedOffsets).
    const events = await this.committed.unapplied(partition, chunk, nextOffset);
    if (events === null) return [];
    const startedEmpty = this.committed.startedEmpty(partition);
    // Raised before anything is written; a chunk without events writes only the checkpoint.
    const unwrittenFrom =
      events.length === 0 ? BigInt(nextOffset) : await this.marks.beforeWriting(partition, events[0].position.offset, nextOffset, !startedEmpty);
    await this.dedup.prefetch(events.flatMap((e) => (e.event.type === 'MessageSent' ? [e.event.data] : [])), startedEmpty);
    const plan = await this.plan(partition, events, nextOffset, { startedEmpty, unwrittenFrom });
    const { changes } = plan;
    // Rows a later mutation of the same chunk overwrites or deletes are not written at all
    // (the coalesced lists leave every cell as the full ones would, whatever storage holds).
    const [data, membership, state] = [plan.data, plan.membership, plan.state].map((mutations) => coalesce(mutations, this.rewrittenTables));
    await this.store.write(data);
    // Membership decides joins, leaves and whose rows a message touches on a replay; a write
    // may land only some of its mutations (Cassandra runs them concurrently). Were it written
    // with `data`, a crash could leave a leave's membership delete stored but the deletes of the
    // rows derived from it lost: the replay then finds the user gone, skips the leave, and the
    // stale rows stay for good. Written only once `data` is stored, it is never ahead of them.
    await this.store.write(membership);
    await this.store.commit(state, partition, nextOffset, plan.counted);
    this.committed.committed(partition, nextOffset);
    return changes;
  }
}
