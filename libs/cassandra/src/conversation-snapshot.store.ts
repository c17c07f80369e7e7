import type { ConversationSnapshot } from '@parley/domain';
import type { Client } from 'cassandra-driver';
import { ensureKeyspace } from './cassandra-client';
import { coalescedWrites } from './coalesced-writes';

/** A conversation's state out of memory, taken after its event at `lastOffset` (docs/adr/0016). */
export interface StoredSnapshot {
  readonly snapshot: ConversationSnapshot;
  readonly lastOffset: bigint;
}

const TABLE = 'command_conversation_snapshots';

/**
 * The command service's snapshots of conversations it evicted from memory, per events topic.
 * Each is written at its last event's offset as the write time, so a later state of a
 * conversation is never replaced by an earlier one, whoever writes last (an owner that lost
 * its partition and has not noticed yet). Written and read at LOCAL_QUORUM (the client's default): one that was saved is found.
 */
export class CassandraConversationSnapshots {
  private schema?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly topic: string,
    private readonly replicationFactor: number,
  ) {}

  async save(conversationId: string, stored: StoredSnapshot): Promise<void> {
    await this.ensureSchema();
    await coalescedWrites(this.client).write({
      query: `INSERT INTO ${this.keyspace}.${TABLE} (topic, conversation_id, last_offset, snapshot) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`,
      params: [this.topic, conversationId, stored.lastOffset, JSON.stringify(stored.snapshot), stored.lastOffset * 16n],
    });
  }

  async load(conversationId: string): Promise<StoredSnapshot | null> {
    await this.ensureSchema();
    const { rows } = await this.client.execute(`SELECT last_offset, snapshot FROM ${this.keyspace}.${TABLE} WHERE topic = ? AND conversation_id = ?`, [this.topic, conversationId], { prepare: true });
    const row = rows[0];
    return row ? { lastOffset: BigInt(row.get('last_offset') as bigint), snapshot: JSON.parse(String(row.get('snapshot'))) as ConversationSnapshot } : null;
  }

  private ensureSchema(): Promise<void> {
    this.schema ??= (async () => {
      await ensureKeyspace(this.client, this.keyspace, this.replicationFactor);
      await this.client.execute(
        `CREATE TABLE IF NOT EXISTS ${this.keyspace}.${TABLE} (topic text, conversation_id text, last_offset bigint, snapshot text, PRIMARY KEY ((topic, conversation_id)))`,
      );
    })().catch((err: unknown) => {
      this.schema = undefined;
      throw err;
    });
    return this.schema;
  }
}
