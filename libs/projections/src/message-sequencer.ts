import type { ReadModelStore, RowMutation, TableDefinition } from './read-model-store.port';
import { writeTimeOf } from './read-model-store.port';

/** Messages of a conversation per Cassandra partition of a table: bounds every partition's size. */
export const OFFSETS_PER_BUCKET = 100_000n;
export const bucketOf = (offset: string): bigint => BigInt(offset) / OFFSETS_PER_BUCKET;

const MAX_REMEMBERED_IDS = 200_000;

export const messageIdsTable = (prefix: string): TableDefinition => ({
  name: `${prefix}_message_ids`,
  columns: { conversation_id: 'text', message_id: 'text', offset: 'bigint' },
  partitionKey: ['conversation_id', 'message_id'],
});

/**
 * Recognises duplicate MessageSent records (a retried append under the same message id): the
 * first occurrence in log order wins. Lookups of one chunk are fetched in parallel up front.
 */
export class MessageDeduplicator {
  private readonly firstOffset = new Map<string, string>();

  constructor(
    private readonly store: ReadModelStore,
    private readonly table: string,
    private readonly maxRemembered = MAX_REMEMBERED_IDS,
  ) {}

  private key = (conversationId: string, messageId: string) => `${conversationId}\n${messageId}`;

  async prefetch(messages: ReadonlyArray<{ conversationId: string; messageId: string }>): Promise<void> {
    // Bounded memory: forgotten ids are looked up in storage again. Forget only here, between
    // chunks, never in the middle of one (isDuplicate used to): the ids this chunk recorded
    // are not in storage before its end, and the ids just fetched would not be fetched again,
    // so a duplicate later in the same chunk was taken for a new message and numbered again.
    if (this.firstOffset.size + messages.length > this.maxRemembered) this.firstOffset.clear();
    const missing = messages.filter((m) => !this.firstOffset.has(this.key(m.conversationId, m.messageId)));
    const rows = await Promise.all(
      missing.map((m) => this.store.get(this.table, { conversation_id: m.conversationId, message_id: m.messageId })),
    );
    missing.forEach((m, i) => {
      const row = rows[i];
      if (row) this.firstOffset.set(this.key(m.conversationId, m.messageId), String(row.offset));
    });
  }

  /** True when an earlier offset already carried this message; otherwise records this one. */
  isDuplicate(conversationId: string, messageId: string, offset: string, data: RowMutation[]): boolean {
    const key = this.key(conversationId, messageId);
    const first = this.firstOffset.get(key);
    if (first !== undefined && BigInt(first) < BigInt(offset)) return true;
    this.firstOffset.set(key, offset);
    data.push({
      table: this.table,
      key: { conversation_id: conversationId, message_id: messageId },
      values: { offset: BigInt(offset) },
      writeTime: writeTimeOf(offset),
    });
    return false;
  }

  reset(): void {
    this.firstOffset.clear();
  }
}
