import type { PartitionOffsets } from '@parley/event-log';
import { writeTimeOf, type ReadModelStore, type Row, type RowMutation, type TableDefinition } from '@parley/projections';
import { errors, type Client, type types } from 'cassandra-driver';
import { coalescedWrites } from './coalesced-writes';

const IDENTIFIER = /^[a-z][a-z0-9_]{0,47}$/;
const CHECKPOINTS = 'projection_checkpoints';

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`Not a safe Cassandra identifier: ${JSON.stringify(name)}`);
  return name;
}

/** True when every named projection (at `version`) has committed `partition` beyond `offset`. */
export async function checkpointsPassed(
  client: Client,
  keyspace: string,
  projections: readonly string[],
  version: number,
  position: { readonly partition: number; readonly offset: string },
): Promise<boolean> {
  const result = await client.execute(
    `SELECT next_offset FROM ${identifier(keyspace)}.${CHECKPOINTS} WHERE projection IN ? AND version = ? AND partition = ?`,
    [projections, version, position.partition],
  );
  const passed = result.rows.filter((r) => BigInt(r.get('next_offset')) > BigInt(position.offset));
  return passed.length === projections.length;
}

/** Infrastructure hiccups worth retrying (node down, timeouts, overload), as opposed to bugs or bad data. */
export function isTransientCassandraError(err: unknown): boolean {
  return (
    err instanceof errors.NoHostAvailableError ||
    err instanceof errors.OperationTimedOutError ||
    err instanceof errors.BusyConnectionError ||
    (err instanceof errors.ResponseError &&
      [0x1000, 0x1001, 0x1100, 0x1200, 0x1300].includes(err.code)) // unavailable, overloaded, write/read timeout, read failure
  );
}

export function plainRow(row: types.Row): Row {
  const out: Record<string, Row[string]> = {};
  for (const key of row.keys()) {
    const value = row.get(key);
    out[key] = value === undefined ? null : value;
  }
  return out;
}

interface Statement {
  readonly query: string;
  readonly params: unknown[];
}

/** How `write` groups statements into UNLOGGED batches (measured with bench/rebuild-rate.ts). */
export interface WriteBatching {
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Statements of one Cassandra partition per batch at most (one partition: applied as one mutation, no size limit). */
  readonly maxPartitionBatch: number;
  /** Partitions with fewer statements than this share batches with other partitions. */
  readonly minPartitionBatch: number;
  /** Statements per batch of several partitions at most (1: every such statement alone). */
  readonly maxMixedBatch: number;
  /**
   * Estimated bytes per batch of several partitions at most: Cassandra refuses larger ones
   * (`batch_size_fail_threshold`, 50 KiB by default) and warns from `batch_size_warn_threshold`.
   */
  readonly maxMixedBatchBytes: number;
}

export const DEFAULT_WRITE_BATCHING: WriteBatching = {
  concurrency: 16,
  maxPartitionBatch: 250,
  minPartitionBatch: 32,
  maxMixedBatch: 128,
  maxMixedBatchBytes: 32 * 1024,
};

/** An upper estimate of what a statement adds to a batch's size (UTF-16 units counted twice, for non-ASCII text). */
function estimatedBytes(params: readonly unknown[]): number {
  let bytes = 0;
  for (const p of params) bytes += 12 + (typeof p === 'string' ? 2 * p.length : 8);
  return bytes;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs the tasks, at most `limit` at a time; once one failed, starts no more and throws its error when the others are done. */
async function inParallel(tasks: ReadonlyArray<() => Promise<unknown>>, limit: number): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length && !failure) {
      const task = tasks[next++];
      try {
        await task();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.error;
}

/** Writes of at most this many rows go with the other small writes of the same turn (see CoalescedWrites). */
const COALESCED_WRITE_MAX = 16;

/**
 * ReadModelStore on Cassandra. Tables are named `<table>_v<version>` in one keyspace, so a
 * rebuild (version N+1) lives beside the serving version. Every write carries
 * `USING TIMESTAMP <write time from the log position>`; state rows and the checkpoint go in
 * one LOGGED batch (atomic). Other writes go in UNLOGGED batches grouped by Cassandra partition
 * (a single-partition batch is applied as one mutation); the statements of small partitions
 * share batches (on a few nodes, fewer requests for the same rows). Small writes and
 * checkpoints go with those of the other stores on the client in the same turn (CoalescedWrites).
 * Either way a write may land in part, as the port allows.
 */
export class CassandraReadModelStore implements ReadModelStore {
  private readonly defs = new Map<string, TableDefinition>();
  private readonly queries = new Map<string, Array<{ keyColumns: readonly string[]; valueColumns: readonly string[] | undefined; query: string }>>();
  private readonly batching: WriteBatching;

  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly projection: string,
    private readonly version: number,
    batching: Partial<WriteBatching> = {},
  ) {
    identifier(keyspace);
    this.batching = { ...DEFAULT_WRITE_BATCHING, ...batching };
  }

  private table(name: string): string {
    return `${this.keyspace}.${identifier(name)}_v${this.version}`;
  }

  private def(name: string): TableDefinition {
    const def = this.defs.get(name);
    if (!def) throw new Error(`Table ${name} of ${this.projection} v${this.version} is not registered`);
    return def;
  }

  register(tables: readonly TableDefinition[]): this {
    for (const t of tables) this.defs.set(t.name, t);
    return this;
  }

  /** The write marks of this projection version (a table of its own, dropped with its tables). */
  private get marksTable(): string {
    return this.table(`${this.projection}_write_marks`);
  }

  async createTables(tables: readonly TableDefinition[]): Promise<void> {
    this.register(tables);
    await this.client.execute(
      `CREATE TABLE IF NOT EXISTS ${this.keyspace}.${CHECKPOINTS} (projection text, version int, partition int, next_offset bigint, ` +
        'PRIMARY KEY ((projection, version), partition))',
    );
    await this.client.execute(`CREATE TABLE IF NOT EXISTS ${this.marksTable} (partition int PRIMARY KEY, until bigint)`);
    for (const t of tables) {
      const columns = Object.entries(t.columns).map(([name, type]) => `${identifier(name)} ${type}`);
      const clustering = t.clustering ?? [];
      const primaryKey = `((${t.partitionKey.join(', ')})${clustering.map((c) => `, ${c.column}`).join('')})`;
      const order = clustering.length
        ? ` WITH CLUSTERING ORDER BY (${clustering.map((c) => `${c.column} ${c.order}`).join(', ')})`
        : '';
      await this.client.execute(`CREATE TABLE IF NOT EXISTS ${this.table(t.name)} (${columns.join(', ')}, PRIMARY KEY ${primaryKey})${order}`);
      for (const column of t.indexed ?? []) {
        // Built over the rows already there when added to an existing table; dropped with the table.
        await this.client.execute(`CREATE INDEX IF NOT EXISTS ${t.name}_v${this.version}_${column} ON ${this.table(t.name)} (${identifier(column)}) USING 'sai'`);
      }
    }
  }

  async dropTables(tables: readonly TableDefinition[]): Promise<void> {
    for (const t of tables) await this.client.execute(`DROP TABLE IF EXISTS ${this.table(t.name)}`);
    await this.client.execute(`DROP TABLE IF EXISTS ${this.marksTable}`);
    await this.client.execute(`DELETE FROM ${this.keyspace}.${CHECKPOINTS} WHERE projection = ? AND version = ?`, [this.projection, this.version]);
  }

  async get(table: string, key: Row): Promise<Row | undefined> {
    const def = this.def(table);
    const columns = [...def.partitionKey, ...(def.clustering ?? []).map((c) => c.column)];
    const where = columns.map((c) => `${c} = ?`).join(' AND ');
    const result = await this.client.execute(`SELECT * FROM ${this.table(table)} WHERE ${where}`, columns.map((c) => key[c]));
    const row = result.first();
    return row ? plainRow(row) : undefined;
  }

  async list(table: string, partitionKey: Row): Promise<Row[]> {
    const def = this.def(table);
    const where = def.partitionKey.map((c) => `${c} = ?`).join(' AND ');
    const rows: Row[] = [];
    let pageState: string | undefined;
    do {
      const result = await this.client.execute(
        `SELECT * FROM ${this.table(table)} WHERE ${where}`,
        def.partitionKey.map((c) => partitionKey[c]),
        { fetchSize: 5000, pageState },
      );
      rows.push(...result.rows.map(plainRow));
      pageState = result.pageState ?? undefined;
    } while (pageState);
    return rows;
  }

  /** The statement's text for a table and its columns (a few shapes per table: looked up, not built, per row). */
  private queryFor(table: string, keyColumns: readonly string[], valueColumns: readonly string[] | undefined): string {
    let shapes = this.queries.get(table);
    if (!shapes) {
      shapes = [];
      this.queries.set(table, shapes);
    }
    for (const shape of shapes) {
      if (sameColumns(shape.keyColumns, keyColumns) && (valueColumns ? shape.valueColumns !== undefined && sameColumns(shape.valueColumns, valueColumns) : shape.valueColumns === undefined)) {
        return shape.query;
      }
    }
    const where = keyColumns.map((c) => `${identifier(c)} = ?`).join(' AND ');
    const columns = [...keyColumns, ...(valueColumns ?? [])].map(identifier);
    const query = valueColumns
      ? `INSERT INTO ${this.table(table)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) USING TIMESTAMP ?`
      : `DELETE FROM ${this.table(table)} USING TIMESTAMP ? WHERE ${where}`;
    shapes.push({ keyColumns: [...keyColumns], valueColumns: valueColumns && [...valueColumns], query });
    return query;
  }

  private statement({ table, key, values, writeTime }: RowMutation): Statement {
    const keyColumns = Object.keys(key);
    if (!values) {
      const params: unknown[] = [writeTime];
      for (const c of keyColumns) params.push(key[c]);
      return { query: this.queryFor(table, keyColumns, undefined), params };
    }
    const valueColumns = Object.keys(values);
    const params: unknown[] = [];
    for (const c of keyColumns) params.push(key[c]);
    for (const c of valueColumns) params.push(values[c]);
    params.push(writeTime);
    return { query: this.queryFor(table, keyColumns, valueColumns), params };
  }

  /** Statements grouped by Cassandra partition (table and partition key), then into batches. */
  private batches(mutations: readonly RowMutation[]): Statement[][] {
    const byPartition = new Map<string, Statement[]>();
    mutations.forEach((m, i) => {
      const partitionKey = this.defs.get(m.table)?.partitionKey;
      // A table not registered here: its partition key is unknown, so its rows go alone.
      let id = partitionKey ? m.table : `\u0000${i}`;
      if (partitionKey) for (const c of partitionKey) id += `\u0000${String(m.key[c])}`;
      const statements = byPartition.get(id);
      if (statements) statements.push(this.statement(m));
      else byPartition.set(id, [this.statement(m)]);
    });
    const { maxPartitionBatch, minPartitionBatch, maxMixedBatch, maxMixedBatchBytes } = this.batching;
    const batches: Statement[][] = [];
    let mixed: Statement[] = [];
    let mixedBytes = 0;
    for (const statements of byPartition.values()) {
      if (statements.length >= minPartitionBatch) {
        for (let i = 0; i < statements.length; i += maxPartitionBatch) batches.push(statements.slice(i, i + maxPartitionBatch));
        continue;
      }
      // A small partition's statements stay together (Cassandra merges them into one mutation).
      const bytes = statements.reduce((sum, statement) => sum + estimatedBytes(statement.params), 0);
      if (mixed.length > 0 && (mixed.length + statements.length > maxMixedBatch || mixedBytes + bytes > maxMixedBatchBytes)) {
        batches.push(mixed);
        mixed = [];
        mixedBytes = 0;
      }
      mixed.push(...statements);
      mixedBytes += bytes;
    }
    if (mixed.length > 0) batches.push(mixed);
    return batches;
  }

  async write(mutations: readonly RowMutation[]): Promise<void> {
    if (mutations.length === 0) return;
    if (mutations.length <= COALESCED_WRITE_MAX) {
      // A few rows (a live chunk's state): with what other partitions and projections write in the same turn.
      const writes = coalescedWrites(this.client);
      await Promise.all(mutations.map((m) => writes.write(this.statement(m))));
      return;
    }
    const requests = this.batches(mutations).map((batch) =>
      batch.length === 1
        ? () => this.client.execute(batch[0].query, batch[0].params, { prepare: true })
        : () => this.client.batch(batch, { prepare: true, logged: false }),
    );
    await inParallel(requests, this.batching.concurrency);
  }

  async commit(state: readonly RowMutation[], partition: number, nextOffset: string, atomic = true): Promise<void> {
    // The checkpoint carries an ordinary (clock) write time, so an operator can delete it to replay.
    const checkpoint = {
      query: `INSERT INTO ${this.keyspace}.${CHECKPOINTS} (projection, version, partition, next_offset) VALUES (?, ?, ?, ?)`,
      params: [this.projection, this.version, partition, BigInt(nextOffset)],
    };
    // A LOGGED batch costs Cassandra a batch-log write besides its rows: only where both-or-neither matters.
    if (atomic && state.length > 0) {
      await this.client.batch([...state.map((m) => this.statement(m)), checkpoint], { prepare: true, logged: true });
      return;
    }
    await this.write(state);
    // With the checkpoints of other partitions and projections committed in the same turn: one request.
    await coalescedWrites(this.client).write(checkpoint);
  }

  async writeMarks(): Promise<PartitionOffsets> {
    const result = await this.client.execute(`SELECT partition, until FROM ${this.marksTable}`);
    return new Map(result.rows.map((r) => [Number(r.get('partition')), String(r.get('until'))]));
  }

  async raiseWriteMark(partition: number, offset: string): Promise<void> {
    // Written at the time of its offset: last write wins, so a lower mark never replaces a higher one.
    await this.client.execute(`INSERT INTO ${this.marksTable} (partition, until) VALUES (?, ?) USING TIMESTAMP ?`, [partition, BigInt(offset), writeTimeOf(offset)], {
      prepare: true,
    });
  }

  async checkpoints(): Promise<PartitionOffsets> {
    const result = await this.client.execute(
      `SELECT partition, next_offset FROM ${this.keyspace}.${CHECKPOINTS} WHERE projection = ? AND version = ?`,
      [this.projection, this.version],
    );
    return new Map(result.rows.map((r) => [Number(r.get('partition')), String(r.get('next_offset'))]));
  }
}
