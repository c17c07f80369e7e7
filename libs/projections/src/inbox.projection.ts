import type { LogPosition } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
import { ConversationTableProjection, type ChunkPlan, type PlanContext } from './conversation-table-projection';
import { bucketOf, messageIdsTable, messageSeq } from './message-sequencer';
import type { Change } from './projection';
import { writeTimeOf, type ReadModelStore, type RowMutation, type TableDefinition } from './read-model-store.port';

export const INBOX_TABLES = {
  /**
   * Per conversation, its head: what every member's entry shows (last message, its number,
   * activity). State, committed with the checkpoint, so written once per chunk whatever the
   * group's size; readers merge it with the user's entries (docs/adr/0010-inbox-cost.md).
   */
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
  /**
   * Message offset -> its number in the conversation, for read markers recorded without their
   * number (before 2026-12-03): written for unnumbered messages only (numbered ones are found in
   * memory, see RECENT_SEQS).
   */
  seqs: {
    name: 'inbox_seqs',
    columns: { conversation_id: 'text', bucket: 'bigint', offset: 'bigint', seq: 'bigint' },
    partitionKey: ['conversation_id', 'bucket'],
    clustering: [{ column: 'offset', order: 'ASC' }],
  },
  /**
   * Per user, the conversations they are in and their read marker there: nothing of the
   * conversation's head, so a message writes one of them (its sender's), not one per member.
   * The columns of the layout before ADR 0010 less the head's, with the same meaning: storage
   * of that layout reads correctly (its head columns are left alone, never read).
   */
  entries: {
    name: 'inbox_entries',
    columns: { user_id: 'text', conversation_id: 'text', read_seq: 'bigint', read_offset: 'bigint' },
    partitionKey: ['user_id'],
    clustering: [{ column: 'conversation_id', order: 'ASC' }],
  },
  messageIds: messageIdsTable('inbox'),
} as const satisfies Record<string, TableDefinition>;

/** The order table of the layout before ADR 0010: no longer written, dropped with a version that may have it. */
const FORMER_ORDER_TABLE: TableDefinition = {
  name: 'inbox_by_activity',
  columns: { user_id: 'text', activity_at: 'text', activity_offset: 'bigint', conversation_id: 'text' },
  partitionKey: ['user_id'],
  clustering: [
    { column: 'activity_at', order: 'DESC' },
    { column: 'activity_offset', order: 'DESC' },
    { column: 'conversation_id', order: 'ASC' },
  ],
};

/** Messages whose numbers an inbox conversation keeps in memory, for read markers that point at one of them. */
const RECENT_SEQS = 32;

interface InboxConversation {
  known: boolean;
  lastSeq: bigint;
  lastMessageId: string | null;
  lastOffset: bigint | null;
  activityAt: string | null;
  activityOffset: bigint | null;
  members?: Map<string, bigint>;
  /** Members' read offsets as stored (null: no marker, or no entry), as far as known. */
  readonly reads: Map<string, bigint | null>;
  /** (offset, seq) of the conversation's latest messages in log order, without gaps: every message since the first. */
  readonly recent: Array<readonly [bigint, bigint]>;
}

/**
 * The `inbox` projection: per user, the conversations they are in, most recently active
 * first, with the last message, the read marker and the unread count.
 *
 * The cost of a message does not depend on the group's size (docs/adr/0010-inbox-cost.md):
 * what all members share (last message, its number, activity) is the conversation's head,
 * written once per chunk with the checkpoint; per member there are only membership and the
 * read marker. Readers merge the two and order by activity.
 *
 * unreadCount is derived, never incremented: each message gets its number in the
 * conversation (`seq`), the head keeps the last number, an entry the number at the read
 * marker, and unread = last_seq - read_seq. A member's own messages move their marker, so
 * they never count.
 */
export class InboxProjection extends ConversationTableProjection {
  readonly name = 'inbox';
  readonly handles = new Set(['ConversationCreated', 'UserJoined', 'UserLeft', 'MessageSent', 'ReadMarkerMoved'] as const);
  /** Entries: each message of a sender, each read marker; members: a join and a leave in one chunk. */
  protected readonly rewrittenTables: ReadonlySet<string> = new Set([INBOX_TABLES.entries.name, INBOX_TABLES.members.name]);
  private readonly conversations = new Map<string, InboxConversation>();

  constructor(store: ReadModelStore, version = 1) {
    super(store, version, INBOX_TABLES);
    // Storage of a version built before ADR 0010 also has the former order table.
    const dropTables = this.dropStorage;
    this.dropStorage = async () => {
      await store.dropTables([FORMER_ORDER_TABLE]);
      await dropTables();
    };
  }

  protected clearCache(): void {
    this.conversations.clear();
  }

  /** The conversation as of the checkpoint (or as far as this instance applied it); `startedEmpty`: storage has none. */
  private async conversation(conversationId: string, startedEmpty: boolean): Promise<InboxConversation> {
    let c = this.conversations.get(conversationId);
    if (!c) {
      const row = startedEmpty ? undefined : await this.store.get(INBOX_TABLES.conversations.name, { conversation_id: conversationId });
      c = {
        known: row !== undefined,
        lastSeq: row ? BigInt(row.last_seq as bigint) : 0n,
        lastMessageId: (row?.last_message_id as string | null) ?? null,
        lastOffset: row?.last_offset == null ? null : BigInt(row.last_offset as bigint),
        activityAt: (row?.activity_at as string | null) ?? null,
        activityOffset: row?.activity_offset == null ? null : BigInt(row.activity_offset as bigint),
        reads: new Map(),
        recent: [],
      };
      this.conversations.set(conversationId, c);
    }
    return c;
  }

  /** Every member: read once per conversation (then kept), for the changes every member's inbox is told of. */
  private async members(conversationId: string, c: InboxConversation): Promise<Map<string, bigint>> {
    if (!c.members) {
      const rows = await this.store.list(INBOX_TABLES.members.name, { conversation_id: conversationId });
      c.members = new Map(rows.map((r) => [String(r.user_id), BigInt(r.join_offset as bigint)]));
    }
    return c.members;
  }

  /**
   * A member's read offset, from storage unless known: every change of it is made by this
   * instance, in memory first (`reads`), and, with `startedEmpty`, storage holds none this
   * instance did not write.
   */
  private async readOffset(conversationId: string, c: InboxConversation, userId: string, startedEmpty: boolean): Promise<bigint | null> {
    const known = c.reads.get(userId);
    if (known !== undefined || startedEmpty) return known ?? null;
    const stored = await this.store.get(INBOX_TABLES.entries.name, { user_id: userId, conversation_id: conversationId });
    const offset = stored?.read_offset == null ? null : BigInt(stored.read_offset as bigint);
    c.reads.set(userId, offset);
    return offset;
  }

  /**
   * The number of the last message at or before `upTo` (0 when there is none), when memory
   * knows it: the latest messages are there (`recent`), those of the current chunk always:
   * they are written only at the end of the chunk, so storage does not have them yet, and a
   * marker in the same chunk as the messages it points at must find them there (else it
   * counted 0 read, or fewer, depending on where the chunk happened to be cut).
   */
  private seqInMemory(c: InboxConversation, upTo: LogPosition): bigint | undefined {
    const target = BigInt(upTo.offset);
    // No message yet, or at or after the last one (the usual "read everything").
    if (c.lastOffset === null) return 0n;
    if (target >= c.lastOffset) return c.lastSeq;
    if (c.recent.length > 0 && target >= c.recent[0][0]) {
      for (let i = c.recent.length - 1; i >= 0; i--) if (c.recent[i][0] <= target) return c.recent[i][1];
    }
    return undefined;
  }

  /** The number of the last message at or before `upTo`, from the stored numbers of earlier chunks. */
  private async storedSeqAt(conversationId: string, upTo: LogPosition): Promise<bigint> {
    for (let bucket = bucketOf(upTo.offset); bucket >= 0n; bucket--) {
      const rows = await this.store.list(INBOX_TABLES.seqs.name, { conversation_id: conversationId, bucket });
      const at = rows.filter((r) => BigInt(r.offset as bigint) <= BigInt(upTo.offset)).at(-1);
      if (at) return BigInt(at.seq as bigint);
    }
    return 0n;
  }

  /** Reads, in parallel, what the chunk's events will need of storage and is not cached yet. */
  private async prefetch(events: readonly RecordedEvent[], startedEmpty: boolean): Promise<void> {
    if (startedEmpty) return;
    const ids = new Set(events.map((e) => e.conversationId));
    await Promise.all([...ids].map((id) => this.conversation(id, false)));
    const needMembers = new Set(events.filter((e) => e.event.type !== 'ConversationCreated').map((e) => e.conversationId));
    await Promise.all(
      [...needMembers].map((id) => {
        const c = this.conversations.get(id)!;
        return c.known && !c.members ? this.members(id, c) : undefined;
      }),
    );
    const markers = new Map<string, { conversationId: string; userId: string }>();
    for (const { event, conversationId } of events) {
      if (event.type !== 'ReadMarkerMoved') continue;
      const c = this.conversations.get(conversationId)!;
      if (c.known && c.members?.has(event.data.userId) && !c.reads.has(event.data.userId)) {
        markers.set(`${event.data.userId}\n${conversationId}`, { conversationId, userId: event.data.userId });
      }
    }
    await Promise.all([...markers.values()].map(({ conversationId, userId }) => this.readOffset(conversationId, this.conversations.get(conversationId)!, userId, false)));
  }

  /** A member's entry: their read marker, as a number and a position (-1: nothing read). */
  private entry(userId: string, conversationId: string, readSeq: bigint, readOffset: bigint, offset: string): RowMutation {
    return {
      table: INBOX_TABLES.entries.name,
      key: { user_id: userId, conversation_id: conversationId },
      values: { read_seq: readSeq, read_offset: readOffset },
      writeTime: writeTimeOf(offset, 2),
    };
  }

  /** The conversation's new head reaches every member's inbox: one change for all of them, once per chunk (published, not stored). */
  private announce(conversationId: string, changes: Change[], announced: Set<string>): void {
    if (announced.has(conversationId)) return;
    announced.add(conversationId);
    changes.push({ kind: 'inbox-head', conversationId });
  }

  protected async plan(_partition: number, events: readonly RecordedEvent[], nextOffset: string, { startedEmpty }: PlanContext): Promise<ChunkPlan> {
    await this.prefetch(events, startedEmpty);
    const data: RowMutation[] = [];
    /** Who is a member since when: what later decisions read; written after `data` (see ConversationTableProjection.apply). */
    const membership: RowMutation[] = [];
    const changes: Change[] = [];
    /** Conversations whose head changed: written once, with the checkpoint. */
    const dirty = new Set<string>();
    /** A message without a number was counted: the state must not be stored without the checkpoint. */
    let counted = false;
    /** Conversations whose head change is announced in this chunk already. */
    const announced = new Set<string>();

    for (const { event, position, conversationId } of events) {
      const { offset } = position;
      const at = BigInt(offset);
      // Cached values without an await: suspending the plan for every event costs more than the rest of it.
      const c = this.conversations.get(conversationId) ?? (await this.conversation(conversationId, startedEmpty));
      switch (event.type) {
        case 'ConversationCreated':
          if (c.known) break;
          Object.assign(c, { known: true, activityAt: event.data.createdAt, activityOffset: at, members: new Map() });
          dirty.add(conversationId);
          break;
        case 'UserJoined': {
          if (!c.known) break;
          const members = c.members ?? (await this.members(conversationId, c));
          const { userId, joinedAt } = event.data;
          const since = members.get(userId);
          if (since !== undefined && since < at) break;
          members.set(userId, at);
          // A join is activity: the conversation moves up in every member's inbox.
          Object.assign(c, { activityAt: joinedAt, activityOffset: at });
          dirty.add(conversationId);
          membership.push({ table: INBOX_TABLES.members.name, key: { conversation_id: conversationId, user_id: userId }, values: { join_offset: at }, writeTime: writeTimeOf(offset) });
          // A new member starts with nothing unread.
          data.push(this.entry(userId, conversationId, c.lastSeq, c.lastOffset ?? -1n, offset));
          // That is their marker now: a later marker must not move it backward (storage does
          // not have it before the end of the chunk; without this the outcome depended on chunking).
          c.reads.set(userId, c.lastOffset ?? -1n);
          changes.push({ kind: 'inbox', userId, conversationId, removed: false }); // the newcomer's entry
          this.announce(conversationId, changes, announced);
          break;
        }
        case 'UserLeft': {
          if (!c.known) break;
          const members = c.members ?? (await this.members(conversationId, c));
          const { userId } = event.data;
          const since = members.get(userId);
          // Absent: not a member. Joined at or after this offset: storage is ahead (a replay), already applied.
          if (since === undefined || since >= at) break;
          members.delete(userId);
          c.reads.set(userId, null);
          membership.push({ table: INBOX_TABLES.members.name, key: { conversation_id: conversationId, user_id: userId }, writeTime: writeTimeOf(offset) });
          // Leaving is no activity: the head stays, only the leaver's entry goes.
          data.push({ table: INBOX_TABLES.entries.name, key: { user_id: userId, conversation_id: conversationId }, writeTime: writeTimeOf(offset, 3) });
          changes.push({ kind: 'inbox', userId, conversationId, removed: true });
          break;
        }
        case 'MessageSent': {
          if (!c.known) break;
          const { messageId, senderId, sentAt, seq } = event.data;
          if (this.dedup.isDuplicate(conversationId, messageId, offset, data, seq)) break;
          const members = c.members ?? (await this.members(conversationId, c));
          Object.assign(c, { lastSeq: messageSeq(c.lastSeq, seq), lastMessageId: messageId, lastOffset: at, activityAt: sentAt, activityOffset: at });
          dirty.add(conversationId);
          // A marker recorded since 2026-12-03 carries its number; markers recorded before it
          // (without one) are numbered from the messages': stored for unnumbered messages, kept in
          // memory for the latest RECENT_SEQS of every conversation.
          if (seq === undefined) {
            counted = true;
            data.push({ table: INBOX_TABLES.seqs.name, key: { conversation_id: conversationId, bucket: bucketOf(offset), offset: at }, values: { seq: c.lastSeq }, writeTime: writeTimeOf(offset) });
          }
          c.recent.push([at, c.lastSeq]);
          this.announce(conversationId, changes, announced);
          // Sending reads the conversation up to one's own message.
          if (members.has(senderId)) {
            data.push(this.entry(senderId, conversationId, c.lastSeq, at, offset));
            c.reads.set(senderId, at);
          }
          break;
        }
        case 'ReadMarkerMoved': {
          if (!c.known) break;
          const { userId, upTo, upToSeq } = event.data;
          const members = c.members ?? (await this.members(conversationId, c));
          if (!members.has(userId)) break;
          const known = c.reads.get(userId);
          const current = known !== undefined ? known : await this.readOffset(conversationId, c, userId, startedEmpty);
          // Markers only move forward, even if two racing decisions landed in the other order.
          if (current !== null && current >= BigInt(upTo.offset)) break;
          c.reads.set(userId, BigInt(upTo.offset));
          const seq = upToSeq !== undefined ? BigInt(upToSeq) : (this.seqInMemory(c, upTo) ?? (await this.storedSeqAt(conversationId, upTo)));
          data.push(this.entry(userId, conversationId, seq, BigInt(upTo.offset), offset));
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
      // The chunk's messages are in storage from now on: keep only the latest in memory.
      if (c.recent.length > RECENT_SEQS) c.recent.splice(0, c.recent.length - RECENT_SEQS);
      return {
        table: INBOX_TABLES.conversations.name,
        key: { conversation_id: conversationId },
        values: { last_seq: c.lastSeq, last_message_id: c.lastMessageId, last_offset: c.lastOffset, activity_at: c.activityAt, activity_offset: c.activityOffset },
        writeTime: stateWriteTime,
      };
    });
    return { data, membership, state, changes, counted };
  }
}
