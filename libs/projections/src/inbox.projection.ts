import type { LogPosition } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
import { ConversationTableProjection, type ChunkPlan } from './conversation-table-projection';
import { bucketOf, messageIdsTable } from './message-sequencer';
import type { Change } from './projection';
import { writeTimeOf, type ReadModelStore, type Row, type RowMutation, type TableDefinition } from './read-model-store.port';

export const INBOX_TABLES = {
  /** Per conversation, what every member's entry shows; state, committed with the checkpoint. */
  conversations: {
    name: 'inbox_conversations',
    columns: {
      conversation_id: 'text', last_seq: 'bigint', last_message_id: 'text', last_offset: 'bigint',
      activity_at: 'text', activity_offset: 'bigint',
    },
    partitionKey: ['conversation_id'],
  },
  members: {
    name: 'inbox_members',
    columns: { conversation_id: 'text', user_id: 'text', join_offset: 'bigint' },
    partitionKey: ['conversation_id'],
    clustering: [{ column: 'user_id', order: 'ASC' }],
  },
  /** Message offset -> its number in the conversation, to turn a read marker into a count. */
  seqs: {
    name: 'inbox_seqs',
    columns: { conversation_id: 'text', bucket: 'bigint', offset: 'bigint', seq: 'bigint' },
    partitionKey: ['conversation_id', 'bucket'],
    clustering: [{ column: 'offset', order: 'ASC' }],
  },
  entries: {
    name: 'inbox_entries',
    columns: {
      user_id: 'text', conversation_id: 'text', last_seq: 'bigint', last_message_id: 'text', last_offset: 'bigint',
      read_seq: 'bigint', read_offset: 'bigint', activity_at: 'text', activity_offset: 'bigint',
    },
    partitionKey: ['user_id'],
    clustering: [{ column: 'conversation_id', order: 'ASC' }],
  },
  /** The inbox order. Rows whose activity no longer matches the entry are stale and skipped by readers. */
  byActivity: {
    name: 'inbox_by_activity',
    columns: { user_id: 'text', activity_at: 'text', activity_offset: 'bigint', conversation_id: 'text' },
    partitionKey: ['user_id'],
    clustering: [
      { column: 'activity_at', order: 'DESC' },
      { column: 'activity_offset', order: 'DESC' },
      { column: 'conversation_id', order: 'ASC' },
    ],
  },
  messageIds: messageIdsTable('inbox'),
} as const satisfies Record<string, TableDefinition>;

interface InboxConversation {
  known: boolean;
  lastSeq: bigint;
  lastMessageId: string | null;
  lastOffset: bigint | null;
  activityAt: string | null;
  activityOffset: bigint | null;
  members?: Map<string, bigint>;
}

/**
 * The `inbox` projection: per user, the conversations they are in, most recently active
 * first, with the last message, the read marker and the unread count.
 *
 * unreadCount is derived, never incremented: each message gets its number in the
 * conversation (`seq`), an entry keeps the last number and the number at the read marker, and
 * unread = last_seq - read_seq. A member's own messages move their marker, so they never count.
 * A message to a group of N members writes 3N rows (entry, old order row removed, new order
 * row); see docs/adr/0005-read-models.md.
 */
export class InboxProjection extends ConversationTableProjection {
  readonly name = 'inbox';
  readonly handles = new Set(['ConversationCreated', 'UserJoined', 'UserLeft', 'MessageSent', 'ReadMarkerMoved'] as const);
  private readonly conversations = new Map<string, InboxConversation>();

  constructor(store: ReadModelStore, version = 1) {
    super(store, version, INBOX_TABLES);
  }

  protected clearCache(): void {
    this.conversations.clear();
  }

  private async conversation(conversationId: string): Promise<InboxConversation> {
    let c = this.conversations.get(conversationId);
    if (!c) {
      const row = await this.store.get(INBOX_TABLES.conversations.name, { conversation_id: conversationId });
      c = {
        known: row !== undefined,
        lastSeq: row ? BigInt(row.last_seq as bigint) : 0n,
        lastMessageId: (row?.last_message_id as string | null) ?? null,
        lastOffset: row?.last_offset == null ? null : BigInt(row.last_offset as bigint),
        activityAt: (row?.activity_at as string | null) ?? null,
        activityOffset: row?.activity_offset == null ? null : BigInt(row.activity_offset as bigint),
      };
      this.conversations.set(conversationId, c);
    }
    return c;
  }

  private async members(conversationId: string, c: InboxConversation): Promise<Map<string, bigint>> {
    if (!c.members) {
      const rows = await this.store.list(INBOX_TABLES.members.name, { conversation_id: conversationId });
      c.members = new Map(rows.map((r) => [String(r.user_id), BigInt(r.join_offset as bigint)]));
    }
    return c.members;
  }

  /**
   * The number of the last message at or before `upTo` (0 when there is none). `pending` are the
   * (offset, seq) of this chunk's messages in log order: they are written only at the end of
   * the chunk, so storage does not have them yet, and a marker in the same chunk as the
   * messages it points at must find them here (else it counted 0 read, or fewer, depending on
   * where the chunk happened to be cut).
   */
  private async seqAt(conversationId: string, c: InboxConversation, upTo: LogPosition, pending: ReadonlyArray<readonly [bigint, bigint]>): Promise<bigint> {
    const target = BigInt(upTo.offset);
    // No message yet, or at or after the last one (the usual "read everything"): no lookup.
    if (c.lastOffset === null) return 0n;
    if (target >= c.lastOffset) return c.lastSeq;
    const inChunk = pending.filter(([offset]) => offset <= target).at(-1);
    if (inChunk) return inChunk[1];
    for (let bucket = bucketOf(upTo.offset); bucket >= 0n; bucket--) {
      const rows = await this.store.list(INBOX_TABLES.seqs.name, { conversation_id: conversationId, bucket });
      const at = rows.filter((r) => BigInt(r.offset as bigint) <= BigInt(upTo.offset)).at(-1);
      if (at) return BigInt(at.seq as bigint);
    }
    return 0n;
  }

  /** Moves every member's entry to the conversation's new activity, keeping their read marker. */
  private touchMembers(conversationId: string, c: InboxConversation, members: Map<string, bigint>, previous: Row | null, offset: string, data: RowMutation[], changes: Change[]): void {
    for (const userId of members.keys()) {
      data.push(this.entry(userId, conversationId, c, offset));
      if (previous) data.push({ table: INBOX_TABLES.byActivity.name, key: { user_id: userId, ...previous, conversation_id: conversationId }, writeTime: writeTimeOf(offset, 0) });
      data.push({
        table: INBOX_TABLES.byActivity.name,
        key: { user_id: userId, activity_at: c.activityAt, activity_offset: c.activityOffset, conversation_id: conversationId },
        values: {},
        writeTime: writeTimeOf(offset, 1),
      });
      changes.push({ kind: 'inbox', userId, conversationId, removed: false });
    }
  }

  private entry(userId: string, conversationId: string, c: InboxConversation, offset: string, read?: { seq: bigint; offset: bigint }): RowMutation {
    return {
      table: INBOX_TABLES.entries.name,
      key: { user_id: userId, conversation_id: conversationId },
      values: {
        last_seq: c.lastSeq,
        last_message_id: c.lastMessageId,
        last_offset: c.lastOffset,
        activity_at: c.activityAt,
        activity_offset: c.activityOffset,
        ...(read ? { read_seq: read.seq, read_offset: read.offset } : {}),
      },
      writeTime: writeTimeOf(offset, 2),
    };
  }

  protected async plan(_partition: number, events: readonly RecordedEvent[], nextOffset: string): Promise<ChunkPlan> {
    const data: RowMutation[] = [];
    /** Who is a member since when: what later decisions read; written after `data` (see ConversationTableProjection.apply). */
    const membership: RowMutation[] = [];
    const changes: Change[] = [];
    const dirty = new Set<string>();
    /** Read markers moved by this chunk, not yet in storage. */
    const readOffsets = new Map<string, bigint>();
    /** Per conversation, (offset, seq) of this chunk's messages, not yet in storage. */
    const seqs = new Map<string, Array<readonly [bigint, bigint]>>();

    for (const { event, position, conversationId } of events) {
      const { offset } = position;
      const at = BigInt(offset);
      const c = await this.conversation(conversationId);
      const previousActivity = c.activityAt === null ? null : { activity_at: c.activityAt, activity_offset: c.activityOffset };
      switch (event.type) {
        case 'ConversationCreated':
          if (c.known) break;
          Object.assign(c, { known: true, activityAt: event.data.createdAt, activityOffset: at, members: new Map() });
          dirty.add(conversationId);
          break;
        case 'UserJoined': {
          if (!c.known) break;
          const members = await this.members(conversationId, c);
          const { userId, joinedAt } = event.data;
          const since = members.get(userId);
          if (since !== undefined && since < at) break;
          members.set(userId, at);
          Object.assign(c, { activityAt: joinedAt, activityOffset: at });
          dirty.add(conversationId);
          membership.push({ table: INBOX_TABLES.members.name, key: { conversation_id: conversationId, user_id: userId }, values: { join_offset: at }, writeTime: writeTimeOf(offset) });
          // A new member starts with nothing unread.
          data.push(this.entry(userId, conversationId, c, offset, { seq: c.lastSeq, offset: c.lastOffset ?? -1n }));
          // That is their marker now: a later marker of this chunk must not move it backward
          // (storage does not have it yet; without this the outcome depended on chunking).
          readOffsets.set(`${userId}\n${conversationId}`, c.lastOffset ?? -1n);
          this.touchMembers(conversationId, c, members, previousActivity, offset, data, changes);
          break;
        }
        case 'UserLeft': {
          if (!c.known) break;
          const members = await this.members(conversationId, c);
          const { userId } = event.data;
          const since = members.get(userId);
          if (since === undefined || since >= at) break;
          members.delete(userId);
          membership.push({ table: INBOX_TABLES.members.name, key: { conversation_id: conversationId, user_id: userId }, writeTime: writeTimeOf(offset) });
          data.push({ table: INBOX_TABLES.entries.name, key: { user_id: userId, conversation_id: conversationId }, writeTime: writeTimeOf(offset, 3) });
          if (previousActivity) {
            data.push({ table: INBOX_TABLES.byActivity.name, key: { user_id: userId, ...previousActivity, conversation_id: conversationId }, writeTime: writeTimeOf(offset, 3) });
          }
          changes.push({ kind: 'inbox', userId, conversationId, removed: true });
          break;
        }
        case 'MessageSent': {
          if (!c.known) break;
          const { messageId, senderId, sentAt } = event.data;
          if (this.dedup.isDuplicate(conversationId, messageId, offset, data)) break;
          const members = await this.members(conversationId, c);
          Object.assign(c, { lastSeq: c.lastSeq + 1n, lastMessageId: messageId, lastOffset: at, activityAt: sentAt, activityOffset: at });
          dirty.add(conversationId);
          data.push({ table: INBOX_TABLES.seqs.name, key: { conversation_id: conversationId, bucket: bucketOf(offset), offset: at }, values: { seq: c.lastSeq }, writeTime: writeTimeOf(offset) });
          const chunkSeqs = seqs.get(conversationId) ?? [];
          seqs.set(conversationId, chunkSeqs);
          chunkSeqs.push([at, c.lastSeq]);
          this.touchMembers(conversationId, c, members, previousActivity, offset, data, changes);
          // Sending reads the conversation up to one's own message.
          if (members.has(senderId)) {
            data.push(this.entry(senderId, conversationId, c, offset, { seq: c.lastSeq, offset: at }));
            readOffsets.set(`${senderId}\n${conversationId}`, at);
          }
          break;
        }
        case 'ReadMarkerMoved': {
          if (!c.known) break;
          const { userId, upTo } = event.data;
          const members = await this.members(conversationId, c);
          if (!members.has(userId)) break;
          const readKey = `${userId}\n${conversationId}`;
          const stored = readOffsets.has(readKey)
            ? undefined
            : await this.store.get(INBOX_TABLES.entries.name, { user_id: userId, conversation_id: conversationId });
          const current = readOffsets.get(readKey) ?? (stored?.read_offset == null ? null : BigInt(stored.read_offset as bigint));
          // Markers only move forward, even if two racing decisions landed in the other order.
          if (current !== null && current >= BigInt(upTo.offset)) break;
          readOffsets.set(readKey, BigInt(upTo.offset));
          const seq = await this.seqAt(conversationId, c, upTo, seqs.get(conversationId) ?? []);
          data.push({
            table: INBOX_TABLES.entries.name,
            key: { user_id: userId, conversation_id: conversationId },
            values: { read_seq: seq, read_offset: BigInt(upTo.offset) },
            writeTime: writeTimeOf(offset, 2),
          });
          changes.push({ kind: 'inbox', userId, conversationId, removed: false });
          break;
        }
        default: {
          const unhandled: never = event;
          throw new Error(`inbox cannot apply ${JSON.stringify(unhandled)}`);
        }
      }
    }

    const stateWriteTime = writeTimeOf(nextOffset);
    const state: RowMutation[] = [...dirty].map((conversationId) => {
      const c = this.conversations.get(conversationId)!;
      return {
        table: INBOX_TABLES.conversations.name,
        key: { conversation_id: conversationId },
        values: { last_seq: c.lastSeq, last_message_id: c.lastMessageId, last_offset: c.lastOffset, activity_at: c.activityAt, activity_offset: c.activityOffset },
        writeTime: stateWriteTime,
      };
    });
    return { data, membership, state, changes };
  }
}
