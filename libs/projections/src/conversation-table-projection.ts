import type { ConversationEventType } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
import { CommittedOffsets } from './committed-offsets';
import { MessageDeduplicator } from './message-sequencer';
import type { Change, Projection } from './projection';
import type { ReadModelStore, RowMutation, TableDefinition } from './read-model-store.port';

/** What one chunk of events changes, in the order it must be stored. */
export interface ChunkPlan {
  /** Rows derived from the events, keyed by event or message: idempotent. */
  readonly data: RowMutation[];
  /** Who is a member since when: what later decisions read (see `apply`). */
  readonly membership: RowMutation[];
  /** Counters the projection continues from, committed atomically with the checkpoint. */
  readonly state: RowMutation[];
  readonly changes: Change[];
}

/**
 * The skeleton shared by the Cassandra-table projections (timeline, inbox): skip what is
 * committed already, plan the chunk, store it in a crash-safe order, commit state with the
 * checkpoint. Subclasses only say how a chunk of events becomes rows.
 */
export abstract class ConversationTableProjection implements Projection {
  abstract readonly name: string;
  abstract readonly handles: ReadonlySet<ConversationEventType>;
  protected readonly dedup: MessageDeduplicator;
  private readonly committed: CommittedOffsets;

  constructor(
    protected readonly store: ReadModelStore,
    readonly version: number,
    private readonly tables: Readonly<Record<string, TableDefinition>> & { readonly messageIds: TableDefinition },
  ) {
    this.dedup = new MessageDeduplicator(store, tables.messageIds.name);
    this.committed = new CommittedOffsets(() => store.checkpoints());
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
  }

  /** Forget per-conversation state cached from storage. */
  protected abstract clearCache(): void;

  /** Turns events (none of them committed yet) into rows; may read storage, must not write it. */
  protected abstract plan(partition: number, events: readonly RecordedEvent[], nextOffset: string): Promise<ChunkPlan>;

  async apply(partition: number, chunk: readonly RecordedEvent[], nextOffset: string): Promise<Change[]> {
    // Events before the checkpoint are applied already, and the cached counters include them:
    // applying them again would renumber their messages (see CommittedOffsets).
    const events = await this.committed.unapplied(partition, chunk, nextOffset);
    if (events === null) return [];
    await this.dedup.prefetch(events.flatMap((e) => (e.event.type === 'MessageSent' ? [e.event.data] : [])));
    const { data, membership, state, changes } = await this.plan(partition, events, nextOffset);
    await this.store.write(data);
    // Membership decides joins, leaves and whose rows a message touches on a replay; a write
    // may land only some of its mutations (Cassandra runs them concurrently). Were it written
    // with `data`, a crash could leave a leave's membership delete stored but the deletes of the
    // rows derived from it lost: the replay then finds the user gone, skips the leave, and the
    // stale rows stay for good. Written only once `data` is stored, it is never ahead of them.
    await this.store.write(membership);
    await this.store.commit(state, partition, nextOffset);
    this.committed.committed(partition, nextOffset);
    return changes;
  }
}
