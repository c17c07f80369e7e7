import type { PartitionOffsets, RecordedEvent } from '@parley/event-log';
import { CommittedOffsets } from './committed-offsets';
import type { Change, Projection } from './projection';

export interface MembershipChange {
  readonly conversationId: string;
  readonly userId: string;
  readonly member: boolean;
}

/** Members per conversation where presence fan-out looks them up (Redis sets in production). */
export interface PresenceMembersStore {
  /** Applies the changes in order and records the checkpoint, atomically. */
  apply(version: number, changes: readonly MembershipChange[], partition: number, nextOffset: string): Promise<void>;
  checkpoints(version: number): Promise<PartitionOffsets>;
  members(version: number, conversationId: string): Promise<string[]>;
  drop(version: number): Promise<void>;
}

/**
 * The `presence` projection: who is in each conversation, so that presence changes reach its
 * members. Set adds and removes applied in log order are idempotent, and the checkpoint is
 * written in the same Redis transaction as the data.
 */
export class PresenceProjection implements Projection {
  readonly name = 'presence';
  readonly handles = new Set(['UserJoined', 'UserLeft'] as const);
  private readonly committed: CommittedOffsets;

  constructor(
    private readonly store: PresenceMembersStore,
    readonly version = 1,
  ) {
    this.committed = new CommittedOffsets(() => store.checkpoints(version));
  }

  createStorage = async () => undefined;
  dropStorage = async () => {
    await this.store.drop(this.version);
    this.reset(); // the checkpoint went with the sets
  };
  checkpoints = () => this.store.checkpoints(this.version);
  reset(): void {
    this.committed.reset();
  }

  async apply(partition: number, chunk: readonly RecordedEvent[], nextOffset: string): Promise<Change[]> {
    // Adds and removes are idempotent only as a whole suffix of the log: a chunk delivered again
    // after later ones would re-add a member who has left since (and move the checkpoint back).
    // Events before the checkpoint are applied already, so they are skipped (see CommittedOffsets).
    const events = await this.committed.unapplied(partition, chunk, nextOffset);
    if (events === null) return [];
    const changes = events.flatMap(({ event }): MembershipChange[] => {
      switch (event.type) {
        case 'UserJoined':
          return [{ conversationId: event.data.conversationId, userId: event.data.userId, member: true }];
        case 'UserLeft':
          return [{ conversationId: event.data.conversationId, userId: event.data.userId, member: false }];
        default:
          return [];
      }
    });
    await this.store.apply(this.version, changes, partition, nextOffset);
    this.committed.committed(partition, nextOffset);
    return changes.map((c) => ({ kind: 'members', conversationId: c.conversationId, userIds: [c.userId] }));
  }
}

export class InMemoryPresenceMembersStore implements PresenceMembersStore {
  private readonly sets = new Map<string, Set<string>>();
  private readonly offsets = new Map<string, string>();

  async apply(version: number, changes: readonly MembershipChange[], partition: number, nextOffset: string): Promise<void> {
    for (const { conversationId, userId, member } of changes) {
      const key = `${version}:${conversationId}`;
      const set = this.sets.get(key) ?? new Set<string>();
      if (member) set.add(userId);
      else set.delete(userId);
      this.sets.set(key, set);
    }
    this.offsets.set(`${version}:${partition}`, nextOffset);
  }

  async checkpoints(version: number): Promise<PartitionOffsets> {
    return new Map([...this.offsets].filter(([k]) => k.startsWith(`${version}:`)).map(([k, v]) => [Number(k.split(':')[1]), v]));
  }

  async members(version: number, conversationId: string): Promise<string[]> {
    return [...(this.sets.get(`${version}:${conversationId}`) ?? [])].sort();
  }

  async drop(version: number): Promise<void> {
    for (const key of [...this.sets.keys(), ...this.offsets.keys()]) {
      if (key.startsWith(`${version}:`)) {
        this.sets.delete(key);
        this.offsets.delete(key);
      }
    }
  }
}
