import { initialConversationState, restoreConversation, snapshotOf, type ConversationState, type CreatedConversation } from '@parley/domain';
import type { ConversationSnapshots } from '../snapshots/conversation-snapshots';
import { SeenIds } from './seen-ids';

/**
 * How many conversations a writer keeps in memory, and where the others go (docs/adr/0016):
 * beyond `maxConversations`, the least recently used are saved as snapshots and dropped, and
 * restored on their next command (or event, while the partition is read).
 */
export interface Retention {
  readonly snapshots: ConversationSnapshots;
  readonly maxConversations: number;
  /** Saving or reading a snapshot failed; it is tried again (a state stays in memory until it is saved). */
  readonly failed?: (what: string, err: unknown) => void;
}

/** A conversation's state with the offset of its last event (-1: none, a conversation found not to exist). */
export interface Held {
  readonly state: ConversationState;
  readonly lastOffset: bigint;
}

/** A dropped conversation's state, its snapshot not saved yet. */
interface Unsaved {
  readonly state: CreatedConversation;
  readonly lastOffset: bigint;
}

/** Snapshots saved, or restored, at once at most. */
const SNAPSHOT_CHUNK = 256;

/** `each` of `items`, SNAPSHOT_CHUNK at a time (those of a chunk at once); the results in order. */
export async function inChunks<T, R>(items: readonly T[], each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += SNAPSHOT_CHUNK) results.push(...(await Promise.all(items.slice(i, i + SNAPSHOT_CHUNK).map(each))));
  return results;
}

/** Waits before the next try after `failures` failed ones: 0.5 s, doubling, at most 30 s. */
const backOff = (failures: number) => new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 500 * 2 ** failures)));

/**
 * The conversation states one partition writer holds, for one reading of its partition (a
 * writer that forgets its state starts a new one): at most the retention's limit in memory, in
 * least recently used order, the others saved as snapshots (docs/adr/0016). Without a
 * retention, everything is held.
 */
export class HeldConversations {
  /** In least recently used order: a conversation moves to the end when it changes or is restored. */
  private readonly states = new Map<string, Held>();
  /** Dropped from memory, their snapshot not saved yet: still restorable from here. */
  private readonly unsaved = new Map<string, Unsaved>();
  /** The conversations dropped from memory (maybe: a Bloom filter). */
  private readonly dropped = new SeenIds();
  private readonly loading = new Map<string, Promise<Held | null>>();
  /** Changed since they were last taken for a checkpoint. */
  private changed = new Set<string>();
  private saving = false;
  private savesFailing = false;
  private saveWaiters: Array<() => void> = [];
  private retired = false;
  /** Read from a checkpoint: any conversation not held may have a snapshot. */
  private anySaved = false;

  constructor(private readonly retention?: Retention) {}

  get size(): number {
    return this.states.size;
  }

  /** Whether every dropped conversation's snapshot is saved. */
  get allSaved(): boolean {
    return this.unsaved.size === 0;
  }

  get hasChanges(): boolean {
    return this.changed.size > 0;
  }

  get(conversationId: string): ConversationState | undefined {
    return this.states.get(conversationId)?.state;
  }

  has(conversationId: string): boolean {
    return this.states.has(conversationId);
  }

  /** The partition is read from a checkpoint: every conversation of its earlier events is in a snapshot. */
  readingFromCheckpoint(): void {
    this.anySaved = true;
  }

  /** Whether the conversation, not held, may have a snapshot to restore. */
  mayHaveSnapshot(conversationId: string): boolean {
    return this.retention !== undefined && !this.states.has(conversationId) && (this.anySaved || this.dropped.mayHave(conversationId));
  }

  /** The conversation's state changed (or came back): it is now the most recently used. */
  set(conversationId: string, state: ConversationState, lastOffset: bigint): void {
    this.states.delete(conversationId);
    this.states.set(conversationId, { state, lastOffset });
    this.changed.add(conversationId);
  }

  /** Holds a restored state (none: the conversation does not exist); returns it. */
  hold(conversationId: string, restored: Held | null): ConversationState {
    const state = restored?.state ?? initialConversationState();
    this.set(conversationId, state, restored?.lastOffset ?? -1n);
    return state;
  }

  /** A dropped conversation's state: from memory while its snapshot is being saved, else from its snapshot. */
  restore(conversationId: string): Promise<Held | null> {
    const unsaved = this.unsaved.get(conversationId);
    if (unsaved) {
      this.unsaved.delete(conversationId);
      return Promise.resolve(unsaved);
    }
    let loading = this.loading.get(conversationId);
    if (!loading) {
      loading = this.retention!.snapshots.load(conversationId)
        .then((stored) => (stored ? { state: restoreConversation(stored.snapshot), lastOffset: stored.lastOffset } : null))
        .finally(() => this.loading.delete(conversationId));
      this.loading.set(conversationId, loading);
    }
    return loading;
  }

  /** Restores, while the partition is read (which cannot go on without them), every one of `ids`: read until they are. */
  async restoreAll(ids: readonly string[]): Promise<Map<string, Held | null>> {
    const states = await inChunks(ids, (id) => (this.retired ? Promise.resolve(null) : this.restoreUntilRead(id)));
    return new Map(ids.map((id, i) => [id, states[i]]));
  }

  private async restoreUntilRead(conversationId: string): Promise<Held | null> {
    for (let failures = 0; ; failures++) {
      try {
        return await this.restore(conversationId);
      } catch (err) {
        this.retention?.failed?.(`reading the snapshot of conversation ${conversationId}`, err);
        await backOff(failures);
        if (this.retired) return null;
      }
    }
  }

  /**
   * Beyond the limit, drops the least recently used conversations (to 90% of it, so that this
   * happens in batches) but those in `undecided` (a decision of theirs is not acknowledged):
   * their snapshots are saved, and until then they stay restorable from memory.
   */
  dropBeyondLimit(undecided: ReadonlySet<string>): void {
    const limit = this.retention?.maxConversations;
    if (limit === undefined || this.states.size <= limit) return;
    const keep = Math.floor(limit * 0.9);
    for (const [conversationId, { state, lastOffset }] of this.states) {
      if (this.states.size <= keep) break;
      if (undecided.has(conversationId)) continue;
      this.states.delete(conversationId);
      this.changed.delete(conversationId); // its snapshot is saved now
      if (state.status !== 'CREATED') continue;
      this.dropped.add(conversationId);
      this.unsaved.set(conversationId, { state, lastOffset });
    }
    void this.saveDropped();
  }

  /** While the partition is read: waits while more than the limit wait for their snapshots (unless saves are failing: then memory gives). */
  async caughtUpWithSaves(): Promise<void> {
    while (this.retention && this.unsaved.size > this.retention.maxConversations && this.saving && !this.savesFailing && !this.retired) {
      await new Promise<void>((resolve) => this.saveWaiters.push(resolve));
    }
  }

  /** The conversations changed since the last call, with their states; `undecided` ones stay changed (their newest state is not final). */
  takeChanged(undecided: ReadonlyMap<string, ConversationState>): Map<string, ConversationState | undefined> {
    const taken = new Map<string, ConversationState | undefined>();
    for (const id of this.changed) taken.set(id, undecided.get(id) ?? this.states.get(id)?.state);
    this.changed = new Set(undecided.keys());
    return taken;
  }

  /** Marks conversations changed again (their checkpoint failed). */
  markChanged(ids: Iterable<string>): void {
    if (this.retired) return;
    for (const id of ids) this.changed.add(id);
  }

  /** This state was forgotten: nothing more is saved or restored for it. */
  retire(): void {
    this.retired = true;
    for (const wake of this.saveWaiters.splice(0)) wake();
  }

  /** Saves the snapshots of dropped conversations, a chunk at a time, retrying failures with backoff. */
  private async saveDropped(): Promise<void> {
    if (this.saving || !this.retention) return;
    const { snapshots, failed } = this.retention;
    this.saving = true;
    let failures = 0;
    while (this.unsaved.size > 0 && !this.retired) {
      const chunk: Array<[string, Unsaved]> = [];
      for (const entry of this.unsaved) if (chunk.push(entry) >= SNAPSHOT_CHUNK) break;
      try {
        await Promise.all(chunk.map(([id, { state, lastOffset }]) => snapshots.save(id, { snapshot: snapshotOf(state), lastOffset })));
        for (const [id, held] of chunk) if (this.unsaved.get(id) === held) this.unsaved.delete(id);
        failures = 0;
        this.savesFailing = false;
      } catch (err) {
        this.savesFailing = true;
        failed?.('saving snapshots of conversations dropped from memory', err);
        await backOff(failures++);
      } finally {
        for (const wake of this.saveWaiters.splice(0)) wake();
      }
    }
    this.saving = false;
  }
}
