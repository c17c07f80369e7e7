import type { PartitionOffsets } from '@parley/event-log';
import type { ReadModelStore, Row, RowMutation, TableDefinition } from '@parley/projections';
import { concurrent, errors, type Client, type types } from 'cassandra-driver';

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

/**
 * ReadModelStore on Cassandra. Tables are named `<table>_v<version>` in one keyspace, so a
 * rebuild (version N+1) lives beside the serving version. Every write carries
 * `USING TIMESTAMP <write time from the log position>`; state rows and the checkpoint go in
 * one LOGGED batch (atomic).
 */
export class CassandraReadModelStore implements ReadModelStore {
  private readonly defs = new Map<string, TableDefinition>();

  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly projection: string,
    private readonly version: number,
    private readonly concurrencyLevel = 64,
  ) {
    identifier(keyspace);
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

  async createTables(tables: readonly TableDefinition[]): Promise<void> {
    this.register(tables);
    await this.client.execute(
      `CREATE TABLE IF NOT EXISTS ${this.keyspace}.${CHECKPOINTS} (projection text, version int, partition int, next_offset bigint, ` +
        'PRIMARY KEY ((projection, version), partition))',
    );
    for (const t of tables) {
      const columns = Object.entries(t.columns).map(([name, type]) => `${identifier(name)} ${type}`);
      const clustering = t.clustering ?? [];
      const primaryKey = `((${t.partitionKey.join(', ')})${clustering.map((c) => `, ${c.column}`).join('')})`;
      const order = clustering.length
        ? ` WITH CLUSTERING ORDER BY (${clustering.map((c) => `${c.column} ${c.order}`).join(', ')})`
        : '';
      await this.client.execute(`CREATE TABLE IF NOT EXISTS ${this.table(t.name)} (${columns.join(', ')}, PRIMARY KEY ${primaryKey})${order}`);
    }
  }

  async dropTables(tables: readonly TableDefinition[]): Promise<void> {
    for (const t of tables) await this.client.execute(`DROP TABLE IF EXISTS ${this.table(t.name)}`);
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

  private statement({ table, key, values, writeTime }: RowMutation): { query: string; params: unknown[] } {
    if (!values) {
      const columns = Object.keys(key);
      return {
        query: `DELETE FROM ${this.table(table)} USING TIMESTAMP ? WHERE ${columns.map((c) => `${c} = ?`).join(' AND ')}`,
        params: [writeTime, ...columns.map((c) => key[c])],
      };
    }
    const row = { ...key, ...values };
    const columns = Object.keys(row);
    return {
      query: `INSERT INTO ${this.table(table)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) USING TIMESTAMP ?`,
      params: [...columns.map((c) => row[c]), writeTime],
    };
  }

  async write(mutations: readonly RowMutation[]): Promise<void> {
    if (mutations.length === 0) return;
    await concurrent.executeConcurrent(this.client, mutations.map((m) => this.statement(m)), {
      concurrencyLevel: this.concurrencyLevel,
      raiseOnFirstError: true,
    });
  }

  async commit(state: readonly RowMutation[], partition: number, nextOffset: string): Promise<void> {
    // The checkpoint carries an ordinary (clock) write time, so an operator can delete it to replay.
    const checkpoint = {
      query: `INSERT INTO ${this.keyspace}.${CHECKPOINTS} (projection, version, partition, next_offset) VALUES (?, ?, ?, ?)`,
      params: [this.projection, this.version, partition, BigInt(nextOffset)],
    };
    await this.client.batch([...state.map((m) => this.statement(m)), checkpoint], { prepare: true, logged: true });
  }

  async checkpoints(): Promise<PartitionOffsets> {
    const result = await this.client.execute(
      `SELECT partition, next_offset FROM ${this.keyspace}.${CHECKPOINTS} WHERE projection = ? AND version = ?`,
      [this.projection, this.version],
    );
    return new Map(result.rows.map((r) => [Number(r.get('partition')), String(r.get('next_offset'))]));
  }
}
