import type { MessageSent } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
import { ConversationTableProjection, type ChunkPlan, type PlanContext } from './conversation-table-projection';
import { bucketOf, messageIdsTable, messageSeq } from './message-sequencer';
import type { Change } from './projection';
import { writeTimeOf, type ReadModelStore, type Row, type RowMutation, type TableDefinition } from './read-model-store.port';

export const TIMELINE_TABLES = {
  /** Per conversation: what it is, and (`last_seq`, `last_offset`) its last message without a number, which counting continues from. */
  conversations: {
    name: 'timeline_conversations',
    columns: {
      conversation_id: 'text', kind: 'text', title: 'text', created_by: 'text', created_at: 'text',
      partition: 'int', last_seq: 'bigint', last_offset: 'bigint',
    },
    partitionKey: ['conversation_id'],
  },
  members: {
    name: 'timeline_members',
    columns: { conversation_id: 'text', join_offset: 'bigint', user_id: 'text', joined_at: 'text' },
    partitionKey: ['conversation_id'],
    clustering: [{ column: 'join_offset', order: 'ASC' }],
  },
  memberIndex: {
    name: 'timeline_member_index',
    columns: { conversation_id: 'text', user_id: 'text', join_offset: 'bigint' },
    partitionKey: ['conversation_id'],
    clustering: [{ column: 'user_id', order: 'ASC' }],
  },
  messages: {
    name: 'timeline_messages',
    columns: {
      conversation_id: 'text', bucket: 'bigint', offset: 'bigint', message_id: 'text', client_message_id: 'text',
      sender_id: 'text', body: 'text', sent_at: 'text', seq: 'bigint',
    },
    partitionKey: ['conversation_id', 'bucket'],
    clustering: [{ column: 'offset', order: 'ASC' }],
    /** A message by id (TimelineReader.byId): indexed with the row, no row of its own. */
    indexed: ['message_id'],
  },
  buckets: {
    name: 'timeline_buckets',
    columns: { conversation_id: 'text', bucket: 'bigint' },
    partitionKey: ['conversation_id'],
    clustering: [{ column: 'bucket', order: 'DESC' }],
  },
  /** First occurrences of messages written before they were numbered (ADR 0009), to skip their duplicates. */
  messageIds: messageIdsTable('timeline'),
} as const satisfies Record<string, TableDefinition>;

/**
 * What makes a message readable in the timeline: its row, and its bucket's. Written by the
 * projection and, ahead of it, by the partition's writer before it publishes the message
 * (docs/adr/0009): the same cells with the same write time, so either may come first.
 */
export function timelineMessageRows(
  conversationId: string,
  offset: string,
  message: Pick<MessageSent['data'], 'messageId' | 'clientMessageId' | 'senderId' | 'body' | 'sentAt'>,
  seq: bigint,
): [message: RowMutation, bucket: RowMutation] {
  const bucket = bucketOf(offset);
  const writeTime = writeTimeOf(offset);
  const { messageId, clientMessageId, senderId, body, sentAt } = message;
  return [
    {
      table: TIMELINE_TABLES.messages.name,
      key: { conversation_id: conversationId, bucket, offset: BigInt(offset) },
      values: { message_id: messageId, client_message_id: clientMessageId, sender_id: senderId, body, sent_at: sentAt, seq },
      writeTime,
    },
    { table: TIMELINE_TABLES.buckets.name, key: { conversation_id: conversationId, bucket }, values: {}, writeTime },
  ];
}

interface ConversationView {
  created: Row | undefined;
  /** The last message's number and offset, as far as this instance applied them. */
  lastSeq: bigint;
  lastOffset: bigint;
  /**
   * What the conversation row holds (`last_seq`, `last_offset`): the last message without a
   * number (events from before ADR 0009), what counting continues from; 0 and -1 when none.
   * Numbered messages leave it as it is, so the row does not depend on how chunks were cut.
   */
  counted: { seq: bigint; offset: bigint };
  /** userId -> offset of the UserJoined that made them a member (may run ahead of the checkpoint; see apply). */
  members?: Map<string, bigint>;
}

/**
 * The `timeline` projection: each conversation's metadata, members in join order, and its
 * messages in log order, bucketed by offset so no Cassandra partition grows without bound.
 *
 * Replay safety: row writes carry write times from log positions (last write wins by
 * position); the per-conversation counters (`last_seq`) are state rows committed atomically
 * with the checkpoint, so after a crash they are exactly as of the checkpoint and the replayed
 * events are numbered the same again.
 */
/**
 * Timeline rows a partition's writer wrote ahead of the projection: every message at an offset
 * in [from, to) has its message and bucket rows in `version` (the same cells and write times
 * this projection writes).
 */
export interface WrittenRun {
  readonly version: number;
  readonly from: bigint;
  readonly to: bigint;
}

/** Where each partition's writer wrote rows ahead (its live lane); null: unknown, the projection writes everything. */
export interface RowsWrittenAhead {
  written(partition: number): Promise<WrittenRun | null>;
}

export class TimelineProjection extends ConversationTableProjection {
  readonly name = 'timeline';
  readonly handles = new Set(['ConversationCreated', 'UserJoined', 'UserLeft', 'MessageSent'] as const);
  /** A join and a leave (or a rejoin) in one chunk; messages, their ids and buckets are written once per chunk. */
  protected readonly rewrittenTables: ReadonlySet<string> = new Set([TIMELINE_TABLES.members.name, TIMELINE_TABLES.memberIndex.name]);
  private readonly views = new Map<string, ConversationView>();

  constructor(
    store: ReadModelStore,
    version = 1,
    /** What the partitions' writers wrote ahead of this pass (their live lane, docs/adr/0009); without it, every row is written here. */
    private readonly rowsWritten?: RowsWrittenAhead,
  ) {
    super(store, version, TIMELINE_TABLES);
  }

  protected clearCache(): void {
    this.views.clear();
  }

  /** The conversation as of the checkpoint (or as far as this instance applied it); `startedEmpty`: storage has none. */
  private async view(conversationId: string, startedEmpty: boolean): Promise<ConversationView> {
    let view = this.views.get(conversationId);
    if (!view) {
      const created = startedEmpty ? undefined : await this.store.get(TIMELINE_TABLES.conversations.name, { conversation_id: conversationId });
      const counted = { seq: created ? BigInt(created.last_seq as bigint) : 0n, offset: created ? BigInt(created.last_offset as bigint) : -1n };
      view = { created, lastSeq: counted.seq, lastOffset: counted.offset, counted };
      this.views.set(conversationId, view);
    }
    return view;
  }

  private async members(conversationId: string, view: ConversationView): Promise<Map<string, bigint>> {
    if (!view.members) {
      const rows = await this.store.list(TIMELINE_TABLES.memberIndex.name, { conversation_id: conversationId });
      view.members = new Map(rows.map((r) => [String(r.user_id), BigInt(r.join_offset as bigint)]));
    }
    return view.members;
  }

  /** Reads, in parallel, what the chunk's events will need of storage and is not cached yet. */
  private async prefetch(events: readonly RecordedEvent[], startedEmpty: boolean): Promise<void> {
    if (startedEmpty) return;
    const conversations = new Set(events.map((e) => e.conversationId));
    await Promise.all([...conversations].map((id) => this.view(id, false)));
    const membershipChanges = new Set(events.filter((e) => e.event.type === 'UserJoined' || e.event.type === 'UserLeft').map((e) => e.conversationId));
    await Promise.all(
      [...membershipChanges].map((id) => {
        const view = this.views.get(id)!;
        return view.created && !view.members ? this.members(id, view) : undefined;
      }),
    );
  }

  protected async plan(partition: number, events: readonly RecordedEvent[], nextOffset: string, { startedEmpty }: PlanContext): Promise<ChunkPlan> {
    await this.prefetch(events, startedEmpty);
    const data: RowMutation[] = [];
    /** Who is a member since when: what later decisions read; written after `data` (see ConversationTableProjection.apply). */
    const membership: RowMutation[] = [];
    const changes: Change[] = [];
    const dirty = new Set<string>();
    /** A message without a number was counted: the state must not be stored without the checkpoint. */
    let counted = false;
    const latestBuckets = new Map<string, RowMutation>();
    // Messages whose rows (message and bucket) the live lane wrote into this version already.
    const ahead = await this.rowsWritten?.written(partition).catch(() => null);
    const run = ahead?.version === this.version ? ahead : null;
    const writtenAhead = (at: bigint) => run !== null && run.from <= at && at < run.to;

    for (const { event, position, conversationId } of events) {
      const offset = position.offset;
      const at = BigInt(offset);
      // Cached values without an await: suspending the plan for every event costs more than the rest of it.
      const view = this.views.get(conversationId) ?? (await this.view(conversationId, startedEmpty));
      switch (event.type) {
        case 'ConversationCreated': {
          if (view.created) break;
          const { kind, title, createdBy, createdAt } = event.data;
          view.created = { conversation_id: conversationId, kind, title, created_by: createdBy, created_at: createdAt, partition };
          view.members = new Map();
          dirty.add(conversationId);
          break;
        }
        case 'UserJoined': {
          if (!view.created) break;
          const members = view.members ?? (await this.members(conversationId, view));
          const { userId, joinedAt } = event.data;
          const since = members.get(userId);
          if (since !== undefined && since < at) break; // already a member
          members.set(userId, at);
          data.push({ table: TIMELINE_TABLES.members.name, key: { conversation_id: conversationId, join_offset: at }, values: { user_id: userId, joined_at: joinedAt }, writeTime: writeTimeOf(offset) });
          membership.push({ table: TIMELINE_TABLES.memberIndex.name, key: { conversation_id: conversationId, user_id: userId }, values: { join_offset: at }, writeTime: writeTimeOf(offset) });
          changes.push({ kind: 'members', conversationId, userIds: [userId] });
          break;
        }
        case 'UserLeft': {
          if (!view.created) break;
          const members = view.members ?? (await this.members(conversationId, view));
          const { userId } = event.data;
          const since = members.get(userId);
          // Absent: not a member. Joined at or after this offset: storage is ahead (a replay), already applied.
          if (since === undefined || since >= at) break;
          members.delete(userId);
          data.push({ table: TIMELINE_TABLES.members.name, key: { conversation_id: conversationId, join_offset: since }, writeTime: writeTimeOf(offset) });
          membership.push({ table: TIMELINE_TABLES.memberIndex.name, key: { conversation_id: conversationId, user_id: userId }, writeTime: writeTimeOf(offset) });
          changes.push({ kind: 'members', conversationId, userIds: [userId] });
          break;
        }
        case 'MessageSent': {
          if (!view.created) break;
          const { messageId, clientMessageId, senderId, body, sentAt, seq } = event.data;
          if (this.dedup.isDuplicate(conversationId, messageId, offset, data, seq)) break;
          const bucket = bucketOf(offset);
          // The bucket's row was written with the conversation's previous message when that was in the same bucket.
          const bucketWritten = view.lastOffset >= 0n && bucketOf(String(view.lastOffset)) === bucket;
          view.lastSeq = messageSeq(view.lastSeq, seq);
          view.lastOffset = at;
          // Only a message without a number needs the last number stored to continue from: a
          // numbered one writes no head (the writers number every message since ADR 0009, and
          // no older writer can run beside them: it would not be fenced either, ADR 0008).
          if (seq === undefined) {
            view.counted = { seq: view.lastSeq, offset: at };
            dirty.add(conversationId);
            counted = true;
          }
          if (!writtenAhead(at)) {
            const [messageRow, bucketRow] = timelineMessageRows(conversationId, offset, event.data, view.lastSeq);
            data.push(messageRow);
            // A new bucket's row: once per chunk (the chunk's last message of the bucket writes it).
            if (!bucketWritten) latestBuckets.set(`${conversationId}\n${bucket}`, bucketRow);
          }
          changes.push({ kind: 'message', conversationId, message: { id: messageId, clientMessageId, senderId, body, sentAt, partition, offset, seq: Number(view.lastSeq) } });
          break;
        }
        case 'ReadMarkerMoved':
          break;
        default: {
          const unhandled: never = event;
          throw new Error(`timeline cannot apply ${JSON.stringify(unhandled)}`);
        }
      }
    }

    for (const bucketRow of latestBuckets.values()) data.push(bucketRow);
    const stateWriteTime = writeTimeOf(nextOffset);
    const state: RowMutation[] = [...dirty].map((conversationId) => {
      const view = this.views.get(conversationId)!;
      const { conversation_id: _id, ...created } = view.created!;
      return {
        table: TIMELINE_TABLES.conversations.name,
        key: { conversation_id: conversationId },
        values: { ...created, last_seq: view.counted.seq, last_offset: view.counted.offset },
        writeTime: stateWriteTime,
      };
    });
    return { data, membership, state, changes, counted };
  }
}
