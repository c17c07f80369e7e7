import { INBOX_TABLES, TIMELINE_TABLES } from '@parley/projections';
import type { Client } from 'cassandra-driver';

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

  async inboxEntries(userId: string, conversationIds: readonly string[]): Promise<Array<InboxRecord | null>> {
    if (conversationIds.length === 0) return [];
    const result = await this.client.execute(
      `SELECT * FROM ${this.inbox(INBOX_TABLES.entries.name)} WHERE user_id = ? AND conversation_id IN ?`,
      [userId, conversationIds],
    );
    const byId = new Map(result.rows.map((r): [string, InboxRecord] => [r.get('conversation_id'), toInboxRecord(r)]));
    return conversationIds.map((id) => byId.get(id) ?? null);
  }

  /**
   * The most recently active conversations first, after `after`. Order rows whose activity no
   * longer matches their entry are stale (left behind by a crash) and skipped.
   */
  async inboxPage(userId: string, limit: number, after?: InboxPosition): Promise<InboxPage> {
    const entries: InboxRecord[] = [];
    let cursor = after;
    for (;;) {
      // Clustering is (activity_at DESC, activity_offset DESC, conversation_id ASC): "after" in that order.
      const result = await this.client.execute(
        `SELECT activity_at, activity_offset, conversation_id FROM ${this.inbox(INBOX_TABLES.byActivity.name)} WHERE user_id = ?` +
          (cursor ? ' AND (activity_at, activity_offset) <= (?, ?)' : '') +
          ' LIMIT ?',
        [userId, ...(cursor ? [cursor.activityAt, cursor.activityOffset] : []), (limit + 1) * 2 + 10],
      );
      const rows = result.rows
        .map((r) => ({ activityAt: r.get('activity_at') as string, activityOffset: BigInt(r.get('activity_offset')), conversationId: r.get('conversation_id') as string }))
        .filter((r) => !cursor || isAfter(r, cursor));
      const current = await this.inboxEntries(userId, rows.map((r) => r.conversationId));
      rows.forEach((r, i) => {
        const entry = current[i];
        const live = entry && entry.activityAt === r.activityAt && entry.activityOffset === r.activityOffset;
        if (live && !entries.some((e) => e.conversationId === r.conversationId)) entries.push(entry);
      });
      if (entries.length > limit || result.rowLength < (limit + 1) * 2 + 10) break;
      cursor = rows.at(-1) ?? cursor;
    }
    return { entries: entries.slice(0, limit), hasNextPage: entries.length > limit };
  }
}

/** True when `row` comes after `cursor` in inbox order (newest first). */
function isAfter(row: InboxPosition, cursor: InboxPosition): boolean {
  if (row.activityAt !== cursor.activityAt) return row.activityAt < cursor.activityAt;
  if (row.activityOffset !== cursor.activityOffset) return row.activityOffset < cursor.activityOffset;
  return row.conversationId > cursor.conversationId;
}

function toInboxRecord(r: { get(name: string): unknown }): InboxRecord {
  const lastSeq = BigInt((r.get('last_seq') as bigint | null) ?? 0n);
  const readSeq = BigInt((r.get('read_seq') as bigint | null) ?? 0n);
  const readOffset = r.get('read_offset') as bigint | null;
  return {
    conversationId: r.get('conversation_id') as string,
    lastMessageId: (r.get('last_message_id') as string | null) ?? null,
    lastOffset: (r.get('last_offset') as bigint | null) ?? null,
    unreadCount: Number(lastSeq > readSeq ? lastSeq - readSeq : 0n),
    // -1 means "nothing read yet" (a new member of an empty conversation).
    readOffset: readOffset === null || readOffset < 0n ? null : readOffset,
    activityAt: r.get('activity_at') as string,
    activityOffset: BigInt(r.get('activity_offset') as bigint),
  };
}
