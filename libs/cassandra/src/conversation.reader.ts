import { INBOX_TABLES, TIMELINE_TABLES } from '@parley/projections';
import type { Client, types } from 'cassandra-driver';

/** Conversations whose heads one query reads (one IN of single-row partitions; slices run in parallel). */
const HEADS_PER_QUERY = 100;

export interface ConversationRecord {
  readonly id: string;
  readonly kind: 'DIRECT' | 'GROUP';
  readonly title: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly partition: number;
}

export interface MemberRecord {
  readonly userId: string;
  readonly joinedAt: string;
}

export interface InboxRecord {
  readonly conversationId: string;
  readonly lastMessageId: string | null;
  readonly lastOffset: bigint | null;
  readonly unreadCount: number;
  readonly readOffset: bigint | null;
  readonly activityAt: string;
  readonly activityOffset: bigint;
}

export interface InboxPage {
  readonly entries: InboxRecord[];
  readonly hasNextPage: boolean;
}

/** Position in a user's inbox order: (activity time, activity offset, conversation). */
export interface InboxPosition {
  readonly activityAt: string;
  readonly activityOffset: bigint;
  readonly conversationId: string;
}

/** Reads conversations, members and inboxes from the timeline and inbox projections. */
export class ConversationReader {
  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly versions: { readonly timeline: number; readonly inbox: number } = { timeline: 1, inbox: 1 },
  ) {}

  private timeline(name: string): string {
    return `${this.keyspace}.${name}_v${this.versions.timeline}`;
  }

  private inbox(name: string): string {
    return `${this.keyspace}.${name}_v${this.versions.inbox}`;
  }

  async conversations(ids: readonly string[]): Promise<Array<ConversationRecord | null>> {
    const result = await this.client.execute(`SELECT * FROM ${this.timeline(TIMELINE_TABLES.conversations.name)} WHERE conversation_id IN ?`, [ids]);
    const byId = new Map(
      result.rows.map((r): [string, ConversationRecord] => [
        r.get('conversation_id'),
        { id: r.get('conversation_id'), kind: r.get('kind'), title: r.get('title') ?? null, createdBy: r.get('created_by'), createdAt: r.get('created_at'), partition: r.get('partition') },
      ]),
    );
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Whether `userId` is a member now: one row read, whatever the size of the group. */
  async isMember(conversationId: string, userId: string): Promise<boolean> {
    const result = await this.client.execute(
      `SELECT user_id FROM ${this.timeline(TIMELINE_TABLES.memberIndex.name)} WHERE conversation_id = ? AND user_id = ?`,
      [conversationId, userId],
    );
    return result.rowLength > 0;
  }

  /** Current members in join order. */
  async members(conversationId: string): Promise<MemberRecord[]> {
    const result = await this.client.execute(`SELECT user_id, joined_at FROM ${this.timeline(TIMELINE_TABLES.members.name)} WHERE conversation_id = ?`, [conversationId]);
    return result.rows.map((r) => ({ userId: r.get('user_id'), joinedAt: r.get('joined_at') }));
  }

  /** The user's entries of these conversations (null: not a member), with what their heads show. */
  async inboxEntries(userId: string, conversationIds: readonly string[]): Promise<Array<InboxRecord | null>> {
    if (conversationIds.length === 0) return [];
    const result = await this.client.execute(
      `SELECT conversation_id, read_seq, read_offset FROM ${this.inbox(INBOX_TABLES.entries.name)} WHERE user_id = ? AND conversation_id IN ?`,
      [userId, conversationIds],
    );
    const records = await this.withHeads(result.rows);
    const byId = new Map(records.map((r) => [r.conversationId, r]));
    return conversationIds.map((id) => byId.get(id) ?? null);
  }

  /**
   * The most recently active conversations first, after `after`. Merged at read time
   * (docs/adr/0010-inbox-cost.md): every entry of the user (one partition), the heads of
   * those conversations, ordered here; a page costs O(the user's conversations), not O(limit).
   */
  async inboxPage(userId: string, limit: number, after?: InboxPosition): Promise<InboxPage> {
    const ordered = (await this.withHeads(await this.entryRows(userId))).sort((a, b) => (isAfter(a, b) ? 1 : isAfter(b, a) ? -1 : 0));
    const rest = after ? ordered.filter((r) => isAfter(r, after)) : ordered;
    return { entries: rest.slice(0, limit), hasNextPage: rest.length > limit };
  }

  /** The conversations in the user's inbox (the user is a member of). */
  async inboxConversationIds(userId: string): Promise<string[]> {
    return (await this.entryRows(userId)).map((r) => r.get('conversation_id') as string);
  }

  /** Every entry of the user: one partition, read in pages. */
  private async entryRows(userId: string): Promise<types.Row[]> {
    const rows: types.Row[] = [];
    let pageState: string | undefined;
    do {
      const result = await this.client.execute(
        `SELECT conversation_id, read_seq, read_offset FROM ${this.inbox(INBOX_TABLES.entries.name)} WHERE user_id = ?`,
        [userId],
        { fetchSize: 5000, pageState },
      );
      rows.push(...result.rows);
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return rows;
  }

  /**
   * Entries (conversation_id, read_seq, read_offset) with their conversations' heads. An entry
   * whose head is not there yet (the head is committed with the checkpoint, after the entry)
   * is left out until it is: its conversation is announced only then.
   */
  private async withHeads(entries: readonly types.Row[]): Promise<InboxRecord[]> {
    const ids = entries.map((e) => e.get('conversation_id') as string);
    const slices: string[][] = [];
    for (let i = 0; i < ids.length; i += HEADS_PER_QUERY) slices.push(ids.slice(i, i + HEADS_PER_QUERY));
    const results = await Promise.all(
      slices.map((slice) =>
        this.client.execute(
          `SELECT conversation_id, last_seq, last_message_id, last_offset, activity_at, activity_offset FROM ${this.inbox(INBOX_TABLES.conversations.name)} WHERE conversation_id IN ?`,
          [slice],
        ),
      ),
    );
    const heads = new Map(results.flatMap((r) => r.rows).map((h) => [h.get('conversation_id') as string, h]));
    return entries.flatMap((entry) => {
      const head = heads.get(entry.get('conversation_id') as string);
      return head ? [toInboxRecord(head, entry)] : [];
    });
  }
}

/** True when `row` comes after `cursor` in inbox order (newest first). */
function isAfter(row: InboxPosition, cursor: InboxPosition): boolean {
  if (row.activityAt !== cursor.activityAt) return row.activityAt < cursor.activityAt;
  if (row.activityOffset !== cursor.activityOffset) return row.activityOffset < cursor.activityOffset;
  return row.conversationId > cursor.conversationId;
}

function toInboxRecord(head: types.Row, entry: types.Row): InboxRecord {
  const lastSeq = BigInt((head.get('last_seq') as bigint | null) ?? 0n);
  const readSeq = BigInt((entry.get('read_seq') as bigint | null) ?? 0n);
  const readOffset = entry.get('read_offset') as bigint | null;
  return {
    conversationId: head.get('conversation_id') as string,
    lastMessageId: (head.get('last_message_id') as string | null) ?? null,
    lastOffset: (head.get('last_offset') as bigint | null) ?? null,
    // Clamped: a marker is written before the head of its chunk, so for a moment it may be ahead.
    unreadCount: Number(lastSeq > readSeq ? lastSeq - readSeq : 0n),
    // -1 means "nothing read yet" (a new member of an empty conversation).
    readOffset: readOffset === null || readOffset < 0n ? null : readOffset,
    activityAt: head.get('activity_at') as string,
    activityOffset: BigInt(head.get('activity_offset') as bigint),
  };
}
