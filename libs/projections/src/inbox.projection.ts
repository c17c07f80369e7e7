import type { LogPosition } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
import { ConversationTableProjection, type ChunkPlan, type PlanContext } from './conversation-table-projection';
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

/** Messages whose numbers an inbox conversation keeps in memory, for read markers that point at one of them. */
const RECENT_SEQS = 32;

/** An activity of a conversation, as its members' entries and order rows show it. */
interface Touch {
  /** activity_at and activity_offset: the order row's clustering. */
  readonly activity: Row;
  /** The entry's columns (without the read marker). */
  readonly entry: Row;
  /** Of the event's offset (step 0). */
  readonly writeTime: bigint;
}

/** Per member, the last activity of this chunk their entry and their order row show: written once, at the end of the chunk. */
interface Latest {
  readonly entries: Map<string, Touch>;
  readonly order: Map<string, Touch>;
}

/** What a chunk writes. */
interface ChunkRows {
  readonly data: RowMutation[];
  /** Per conversation: rows that wait for the end of the chunk, because later events of it may replace them. */
  readonly latest: Map<string, Latest>;
  readonly changes: Change[];
  /**
   * Order rows of activities at or after this offset were never written: set by this chunk's
   * events, which no one applied before (PlanContext.unwrittenFrom); this chunk writes only
   * the latest, at its end.
   */
  readonly neverWrittenFrom: bigint;
}

const NO_VALUES: Row = Object.freeze({});

function latestOf(rows: ChunkRows, conversationId: string): Latest {
  let latest = rows.latest.get(conversationId);
  if (!latest) {
    latest = { entries: new Map(), order: new Map() };
    rows.latest.set(conversationId, latest);
  }
  return latest;
}

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
 * unreadCount is derived, never incremented: each message gets its number in the
 * conversation (`seq`), an entry keeps the last number and the number at the read marker, and
 * unread = last_seq - read_seq. A member's own messages move their marker, so they never count.
 * A message to a group of N members changes 3N rows (entry, old order row removed, new order
 * row); see docs/adr/0005-read-models.md. Within a chunk only the last entry and order row of
 * each member are written, and an order row the chunk made and replaced itself is neither
 * written nor deleted (unless an earlier, failed attempt at the same events may have written
 * it): a rebuild in large chunks writes about two rows per message plus a few per member.
 */
export class InboxProjection extends ConversationTableProjection {
  readonly name = 'inbox';
  readonly handles = new Set(['ConversationCreated', 'UserJoined', 'UserLeft', 'MessageSent', 'ReadMarkerMoved'] as const);
  /** Entries: each message of a sender, each read marker (the other rows are written once per chunk, or rarely twice). */
  protected readonly rewrittenTables: ReadonlySet<string> = new Set([INBOX_TABLES.entries.name, INBOX_TABLES.members.name]);
  private readonly conversations = new Map<string, InboxConversation>();

  constructor(store: ReadModelStore, version = 1) {
    super(store, version, INBOX_TABLES);
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

  /**
   * Moves every member's entry to the conversation's new activity, keeping their read marker.
   * The entry and the new order row wait in `latest` until the end of the chunk: the next
   * activity of the same chunk replaces them (the order row by a delete), so only the last are
   * written, as coalescing would leave them, without making and dropping rows per message.
   */
  private touchMembers(conversationId: string, c: InboxConversation, members: Map<string, bigint>, previous: Row | null, offset: string, rows: ChunkRows): void {
    const writeTime = writeTimeOf(offset);
    const touch: Touch = { activity: { activity_at: c.activityAt, activity_offset: c.activityOffset }, entry: this.entryValues(c), writeTime };
    const latest = latestOf(rows, conversationId);
    for (const userId of members.keys()) {
      latest.entries.set(userId, touch);
      if (previous) this.deleteOrderRow(userId, conversationId, previous, writeTime, rows, latest);
      latest.order.set(userId, touch);
      rows.changes.push({ kind: 'inbox', userId, conversationId, removed: false });
    }
  }

  /**
   * Deletes a member's order row of an earlier activity. One of an activity of this chunk is
   * not written (it waits in `latest`), and needs no delete unless an earlier attempt at the
   * same events (a crashed or failed apply) may have written it.
   */
  private deleteOrderRow(userId: string, conversationId: string, activity: Row, writeTime: bigint, rows: ChunkRows, latest: Latest): void {
    latest.order.delete(userId);
    if ((activity.activity_offset as bigint) >= rows.neverWrittenFrom) return;
    rows.data.push({ table: INBOX_TABLES.byActivity.name, key: { user_id: userId, ...activity, conversation_id: conversationId }, writeTime });
  }

  /** The rows that waited for the end of the chunk. */
  private writeLatest(rows: ChunkRows): void {
    for (const [conversationId, { entries, order }] of rows.latest) {
      for (const [userId, touch] of entries) {
        rows.data.push({ table: INBOX_TABLES.entries.name, key: { user_id: userId, conversation_id: conversationId }, values: touch.entry, writeTime: touch.writeTime + 2n });
      }
      for (const [userId, touch] of order) {
        rows.data.push({ table: INBOX_TABLES.byActivity.name, key: { user_id: userId, ...touch.activity, conversation_id: conversationId }, values: NO_VALUES, writeTime: touch.writeTime + 1n });
      }
    }
  }

  private entryValues(c: InboxConversation): Row {
    return { last_seq: c.lastSeq, last_message_id: c.lastMessageId, last_offset: c.lastOffset, activity_at: c.activityAt, activity_offset: c.activityOffset };
  }

  /** A member's entry with their read marker. */
  private entry(userId: string, conversationId: string, c: InboxConversation, offset: string, read: { seq: bigint; offset: bigint }): RowMutation {
    return {
      table: INBOX_TABLES.entries.name,
      key: { user_id: userId, conversation_id: conversationId },
      values: {
        last_seq: c.lastSeq,
        last_message_id: c.lastMessageId,
        last_offset: c.lastOffset,
        activity_at: c.activityAt,
        activity_offset: c.activityOffset,
        read_seq: read.seq,
        read_offset: read.offset,
      },
      writeTime: writeTimeOf(offset, 2),
    };
  }

  protected async plan(_partition: number, events: readonly RecordedEvent[], nextOffset: string, { startedEmpty, unwrittenFrom }: PlanContext): Promise<ChunkPlan> {
    await this.prefetch(events, startedEmpty);
    const chunkStart = events.length > 0 ? BigInt(events[0].position.offset) : 0n;
    const rows: ChunkRows = { data: [], latest: new Map(), changes: [], neverWrittenFrom: chunkStart > unwrittenFrom ? chunkStart : unwrittenFrom };
    const { data, changes } = rows;
    /** Who is a member since when: what later decisions read; written after `data` (see ConversationTableProjection.apply). */
    const membership: RowMutation[] = [];
    const dirty = new Set<string>();

    for (const { event, position, conversationId } of events) {
      const { offset } = position;
      const at = BigInt(offset);
      // Cached values without an await: suspending the plan for every event costs more than the rest of it.
      const c = this.conversations.get(conversationId) ?? (await this.conversation(conversationId, startedEmpty));
      const previousActivity = c.activityAt === null ? null : { activity_at: c.activityAt, activity_offset: c.activityOffset };
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
          Object.assign(c, { activityAt: joinedAt, activityOffset: at });
          dirty.add(conversationId);
          membership.push({ table: INBOX_TABLES.members.name, key: { conversation_id: conversationId, user_id: userId }, values: { join_offset: at }, writeTime: writeTimeOf(offset) });
          this.touchMembers(conversationId, c, members, previousActivity, offset, rows);
          // A new member starts with nothing unread (this entry covers the one just touched).
          latestOf(rows, conversationId).entries.delete(userId);
          data.push(this.entry(userId, conversationId, c, offset, { seq: c.lastSeq, offset: c.lastOffset ?? -1n }));
          // That is their marker now: a later marker must not move it backward (storage does
          // not have it before the end of the chunk; without this the outcome depended on chunking).
          c.reads.set(userId, c.lastOffset ?? -1n);
          break;
        }
        case 'UserLeft': {
          if (!c.known) break;
          const members = c.members ?? (await this.members(conversationId, c));
          const { userId } = event.data;
          const since = members.get(userId);
          if (since === undefined || since >= at) break;
          members.delete(userId);
          c.reads.set(userId, null);
          membership.push({ table: INBOX_TABLES.members.name, key: { conversation_id: conversationId, user_id: userId }, writeTime: writeTimeOf(offset) });
          // Their entry and order row go (the entry waiting to be written with them).
          const latest = latestOf(rows, conversationId);
          latest.entries.delete(userId);
          data.push({ table: INBOX_TABLES.entries.name, key: { user_id: userId, conversation_id: conversationId }, writeTime: writeTimeOf(offset, 3) });
          if (previousActivity) this.deleteOrderRow(userId, conversationId, previousActivity, writeTimeOf(offset, 3), rows, latest);
          changes.push({ kind: 'inbox', userId, conversationId, removed: true });
          break;
        }
        case 'MessageSent': {
          if (!c.known) break;
          const { messageId, senderId, sentAt } = event.data;
          if (this.dedup.isDuplicate(conversationId, messageId, offset, data)) break;
          const members = c.members ?? (await this.members(conversationId, c));
          Object.assign(c, { lastSeq: c.lastSeq + 1n, lastMessageId: messageId, lastOffset: at, activityAt: sentAt, activityOffset: at });
          dirty.add(conversationId);
          data.push({ table: INBOX_TABLES.seqs.name, key: { conversation_id: conversationId, bucket: bucketOf(offset), offset: at }, values: { seq: c.lastSeq }, writeTime: writeTimeOf(offset) });
          c.recent.push([at, c.lastSeq]);
          this.touchMembers(conversationId, c, members, previousActivity, offset, rows);
          // Sending reads the conversation up to one's own message.
          if (members.has(senderId)) {
            latestOf(rows, conversationId).entries.delete(senderId); // covered by this one
            data.push(this.entry(senderId, conversationId, c, offset, { seq: c.lastSeq, offset: at }));
            c.reads.set(senderId, at);
          }
          break;
        }
        case 'ReadMarkerMoved': {
          if (!c.known) break;
          const { userId, upTo } = event.data;
          const members = c.members ?? (await this.members(conversationId, c));
          if (!members.has(userId)) break;
          const known = c.reads.get(userId);
          const current = known !== undefined ? known : await this.readOffset(conversationId, c, userId, startedEmpty);
          // Markers only move forward, even if two racing decisions landed in the other order.
          if (current !== null && current >= BigInt(upTo.offset)) break;
          c.reads.set(userId, BigInt(upTo.offset));
          const seq = this.seqInMemory(c, upTo) ?? (await this.storedSeqAt(conversationId, upTo));
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

    this.writeLatest(rows);
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
    return { data, membership, state, changes };
  }
}
