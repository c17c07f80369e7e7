import type { ConversationEventType } from '@parley/domain';
import type { PartitionOffsets, RecordedEvent } from '@parley/event-log';

/** What a projection changed, published after it is readable (Redis pub/sub) for live updates. */
export type Change =
  | {
      readonly kind: 'message';
      readonly conversationId: string;
      readonly message: {
        readonly id: string;
        readonly clientMessageId: string;
        readonly senderId: string;
        readonly body: string;
        readonly sentAt: string;
        readonly partition: number;
        readonly offset: string;
        /** Its number in the conversation (1, 2, 3...): what subscribers check for gaps. */
        readonly seq: number;
      };
    }
  | { readonly kind: 'members'; readonly conversationId: string; readonly userIds: readonly string[] }
  /** One member's own inbox entry changed: joined (it appears), left (removed), or moved its read marker. */
  | { readonly kind: 'inbox'; readonly userId: string; readonly conversationId: string; readonly removed: boolean }
  /** The conversation's head (last message, activity) changed: every member's entry shows it; one change, whatever the number of members. */
  | { readonly kind: 'inbox-head'; readonly conversationId: string };

/**
 * A named, versioned read model built from the log (Marten/emmett style). Storage is per
 * version, so version N+1 can be built beside N. `apply` must be replay-safe: applying the
 * same events twice, or resuming after a crash at any point, gives the same storage.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  readonly handles: ReadonlySet<ConversationEventType>;
  createStorage(): Promise<void>;
  dropStorage(): Promise<void>;
  checkpoints(): Promise<PartitionOffsets>;
  /** Applies events of one partition, then records `nextOffset` as its checkpoint. */
  apply(partition: number, events: readonly RecordedEvent[], nextOffset: string): Promise<Change[]>;
  /** Forgets cached state (after a failed apply it may be ahead of storage). */
  reset(): void;
}

export class ProjectionRegistry {
  private readonly byName = new Map<string, Projection>();

  register(projection: Projection): this {
    if (this.byName.has(projection.name)) {
      throw new Error(`A projection named "${projection.name}" is already registered`);
    }
    this.byName.set(projection.name, projection);
    return this;
  }

  get(name: string): Projection | undefined {
    return this.byName.get(name);
  }

  all(): Projection[] {
    return [...this.byName.values()];
  }
}
