import { bucketOf, TIMELINE_TABLES } from '@parley/projections';
import type { Client } from 'cassandra-driver';
import { plainRow } from './cassandra-read-model-store';

export interface TimelineMessage {
  readonly id: string;
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly senderId: string;
  readonly body: string;
  readonly sentAt: string;
  readonly offset: bigint;
  readonly seq: bigint;
}

export interface TimelinePage {
  /** Oldest first, always. */
  readonly messages: TimelineMessage[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
}

export type TimelinePageRequest =
  | { readonly direction: 'forward'; readonly limit: number; readonly after?: bigint }
  | { readonly direction: 'backward'; readonly limit: number; readonly before?: bigint };

/**
 * Pages through a conversation's timeline by log offset, across its offset buckets: at most
 * limit+1 rows are read per bucket visited, so a page costs the same anywhere in history.
 */
export class TimelineReader {
  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly version: number,
  ) {}

  private table(name: string): string {
    return `${this.keyspace}.${name}_v${this.version}`;
  }

  /** A message by id (through the index of timeline_messages), or null when the timeline has none. */
  async byId(conversationId: string, messageId: string): Promise<TimelineMessage | null> {
    const result = await this.client.execute(`SELECT * FROM ${this.table(TIMELINE_TABLES.messages.name)} WHERE message_id = ?`, [messageId]);
    const row = result.rows.find((r) => r.get('conversation_id') === conversationId);
    return row ? toMessage(plainRow(row)) : null;
  }

  private async buckets(conversationId: string): Promise<bigint[]> {
    const result = await this.client.execute(`SELECT bucket FROM ${this.table(TIMELINE_TABLES.buckets.name)} WHERE conversation_id = ?`, [conversationId]);
    return result.rows.map((r) => BigInt(r.get('bucket'))); // newest first
  }

  async page(conversationId: string, request: TimelinePageRequest): Promise<TimelinePage> {
    const forward = request.direction === 'forward';
    const bound = forward ? request.after : request.before;
    let buckets = await this.buckets(conversationId);
    if (forward) buckets = buckets.reverse();
    if (bound !== undefined) {
      const boundBucket = bucketOf(bound.toString());
      buckets = buckets.filter((b) => (forward ? b >= boundBucket : b <= boundBucket));
    }
    const wanted = request.limit + 1;
    const rows: TimelineMessage[] = [];
    for (const bucket of buckets) {
      if (rows.length >= wanted) break;
      const clause = bound === undefined ? '' : forward ? ' AND offset > ?' : ' AND offset < ?';
      const order = forward ? 'ASC' : 'DESC';
      const result = await this.client.execute(
        `SELECT * FROM ${this.table(TIMELINE_TABLES.messages.name)} WHERE conversation_id = ? AND bucket = ?${clause} ORDER BY offset ${order} LIMIT ?`,
        [conversationId, bucket, ...(bound === undefined ? [] : [bound]), wanted - rows.length],
      );
      rows.push(...result.rows.map((r) => toMessage(plainRow(r))));
    }
    const more = rows.length > request.limit;
    const page = rows.slice(0, request.limit);
    if (!forward) page.reverse();
    return {
      messages: page,
      // The far side of the bound is known to hold messages only when a bound was given.
      hasNextPage: forward ? more : bound !== undefined,
      hasPreviousPage: forward ? bound !== undefined : more,
    };
  }
}

function toMessage(row: Record<string, unknown>): TimelineMessage {
  return {
    id: String(row.message_id),
    clientMessageId: String(row.client_message_id),
    conversationId: String(row.conversation_id),
    senderId: String(row.sender_id),
    body: String(row.body),
    sentAt: String(row.sent_at),
    offset: BigInt(row.offset as bigint),
    seq: BigInt(row.seq as bigint),
  };
}
