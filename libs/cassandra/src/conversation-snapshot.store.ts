import type { ConversationSnapshot } from '@parley/domain';
import type { Client } from 'cassandra-driver';
import { ensureKeyspace } from './cassandra-client';
import { coalescedWrites } from './coalesced-writes';

/** A conversation's state out of memory, taken after its event at `lastOffset` (docs/adr/0016). */
export interface StoredSnapshot {
  readonly snapshot: ConversationSnapshot;
  readonly lastOffset: bigint;
}

/**
 * A partition writer's checkpoint: every conversation of the partition with an event before
 * `through` has a snapshot holding its events up to there, and `seen` (Bloom filters) holds the
 * id of every message before it. A new writer of the partition reads the log from `through`.
 */
export interface PartitionCheckpoint {
  readonly through: bigint;
  /** The filters changed since the previous checkpoint (on load: all of them). */
  readonly seen: ReadonlyArray<{ readonly index: number; readonly ids: number; readonly bits: Uint8Array }>;
}

const TABLE = 'command_conversation_snapshots';
const CHECKPOINTS = 'command_partition_checkpoints';
const SEEN = 'command_seen_message_ids';

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

  /**
   * Saves the filters, then the checkpoint: written at `through` as the write time, so a
   * writer that lost the partition cannot put an earlier checkpoint (or filter) back.
   */
  async saveCheckpoint(partition: number, { through, seen }: PartitionCheckpoint): Promise<void> {
    await this.ensureSchema();
    const writeTime = through * 16n;
    await Promise.all(
      seen.map(({ index, ids, bits }) =>
        this.client.execute(
          `INSERT INTO ${this.keyspace}.${SEEN} (topic, partition, filter, ids, bits) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?`,
          [this.topic, partition, index, ids, Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength), writeTime],
          { prepare: true },
        ),
      ),
    );
    await this.client.execute(
      `INSERT INTO ${this.keyspace}.${CHECKPOINTS} (topic, partition, through) VALUES (?, ?, ?) USING TIMESTAMP ?`,
      [this.topic, partition, through, writeTime],
      { prepare: true },
    );
  }

  async loadCheckpoint(partition: number): Promise<PartitionCheckpoint | null> {
    await this.ensureSchema();
    const params = [this.topic, partition];
    const { rows } = await this.client.execute(`SELECT through FROM ${this.keyspace}.${CHECKPOINTS} WHERE topic = ? AND partition = ?`, params, { prepare: true });
    if (!rows[0]) return null;
    const filters = await this.client.execute(`SELECT filter, ids, bits FROM ${this.keyspace}.${SEEN} WHERE topic = ? AND partition = ?`, params, { prepare: true });
    const seen = filters.rows.map((row) => {
      const bits = row.get('bits') as Buffer;
      return { index: Number(row.get('filter')), ids: Number(row.get('ids')), bits: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength) };
    });
    return { through: BigInt(rows[0].get('through') as bigint), seen };
  }

  private ensureSchema(): Promise<void> {
    this.schema ??= (async () => {
      await ensureKeyspace(this.client, this.keyspace, this.replicationFactor);
      await this.client.execute(
        `CREATE TABLE IF NOT EXISTS ${this.keyspace}.${TABLE} (topic text, conversation_id text, last_offset bigint, snapshot text, PRIMARY KEY ((topic, conversation_id)))`,
      );
      await this.client.execute(`CREATE TABLE IF NOT EXISTS ${this.keyspace}.${CHECKPOINTS} (topic text, partition int, through bigint, PRIMARY KEY ((topic, partition)))`);
      await this.client.execute(
        `CREATE TABLE IF NOT EXISTS ${this.keyspace}.${SEEN} (topic text, partition int, filter int, ids int, bits blob, PRIMARY KEY ((topic, partition), filter))`,
      );
    })().catch((err: unknown) => {
      this.schema = undefined;
      throw err;
    });
    return this.schema;
  }
}
