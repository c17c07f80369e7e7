import type { PartitionOffsets } from '@parley/event-log';
import { writeTimeOf, type CellValue, type ReadModelStore, type Row, type RowMutation, type TableDefinition } from './read-model-store.port';

interface Cell {
  readonly value: CellValue;
  readonly writeTime: bigint;
}

interface StoredRow {
  readonly key: Row;
  cells: Map<string, Cell>;
  deletedAt: bigint;
}

const ROW_MARKER = '';

const compare = (a: CellValue, b: CellValue): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as bigint) < BigInt(b as bigint) ? -1 : 1;
  return a < b ? -1 : 1;
};

/**
 * The read-model store in memory, with Cassandra's rules: cells are last-write-wins by write
 * time, a row delete hides cells written at or before it. For unit tests of projections.
 */
export class InMemoryReadModelStore implements ReadModelStore {
  private readonly tables = new Map<string, { def: TableDefinition; rows: Map<string, StoredRow> }>();
  private readonly checkpointRows = new Map<number, Cell>();
  private readonly marks = new Map<number, bigint>();
  failNextWrites = 0;

  async createTables(tables: readonly TableDefinition[]): Promise<void> {
    for (const def of tables) if (!this.tables.has(def.name)) this.tables.set(def.name, { def, rows: new Map() });
  }

  /** Like the Cassandra store (one per projection version), dropping also deletes the checkpoints. */
  async dropTables(tables: readonly TableDefinition[]): Promise<void> {
    for (const def of tables) this.tables.delete(def.name);
    this.checkpointRows.clear();
    this.marks.clear();
  }

  private table(name: string) {
    const table = this.tables.get(name);
    if (!table) throw new Error(`No table ${name}`);
    return table;
  }

  private keyOf(def: TableDefinition, key: Row): string {
    const columns = [...def.partitionKey, ...(def.clustering ?? []).map((c) => c.column)];
    return JSON.stringify(columns.map((c) => String(key[c])));
  }

  private visible(row: StoredRow): Row | undefined {
    const cells = [...row.cells].filter(([, cell]) => cell.writeTime > row.deletedAt);
    if (cells.length === 0) return undefined;
    const columns = cells.filter(([column]) => column !== ROW_MARKER);
    return { ...Object.fromEntries(columns.map(([column, cell]) => [column, cell.value])), ...row.key };
  }

  async get(table: string, key: Row): Promise<Row | undefined> {
    const { def, rows } = this.table(table);
    const row = rows.get(this.keyOf(def, key));
    return row && this.visible(row);
  }

  async list(table: string, partitionKey: Row): Promise<Row[]> {
    const { def, rows } = this.table(table);
    // Keys compare as in keyOf (so `get` and `list` agree), not by identity: 1n and 1 are one key.
    const matching = [...rows.values()]
      .filter((r) => def.partitionKey.every((c) => String(r.key[c]) === String(partitionKey[c])))
      .map((r) => this.visible(r))
      .filter((r): r is Row => r !== undefined);
    return matching.sort((a, b) => {
      for (const { column, order } of def.clustering ?? []) {
        const c = compare(a[column], b[column]);
        if (c !== 0) return order === 'ASC' ? c : -c;
      }
      return 0;
    });
  }

  /** Every visible row of a table, for assertions. */
  rows(table: string): Row[] {
    const { rows } = this.table(table);
    return [...rows.values()].map((r) => this.visible(r)).filter((r): r is Row => r !== undefined);
  }

  async write(mutations: readonly RowMutation[]): Promise<void> {
    if (this.failNextWrites > 0) {
      this.failNextWrites--;
      throw Object.assign(new Error('simulated storage failure'), { retriable: true });
    }
    for (const m of mutations) this.apply(m);
  }

  private apply({ table, key, values, writeTime }: RowMutation): void {
    const { def, rows } = this.table(table);
    const id = this.keyOf(def, key);
    const row = rows.get(id) ?? { key, cells: new Map<string, Cell>(), deletedAt: -1n };
    rows.set(id, row);
    if (!values) {
      if (writeTime > row.deletedAt) row.deletedAt = writeTime;
      return;
    }
    // Cassandra writes a row marker with every INSERT, so a row with only key columns exists too.
    for (const [column, value] of Object.entries({ ...values, [ROW_MARKER]: true })) {
      const current = row.cells.get(column);
      const wins = !current || writeTime > current.writeTime || (writeTime === current.writeTime && compare(value, current.value) > 0);
      if (wins) row.cells.set(column, { value, writeTime });
    }
  }

  /** State, then the checkpoint (atomically in effect: nothing runs in between). */
  async commit(state: readonly RowMutation[], partition: number, nextOffset: string, _atomic = true): Promise<void> {
    await this.write(state);
    // Last write wins, as in Cassandra (the checkpoint is written USING TIMESTAMP of its offset):
    // committing an older offset again does not move the checkpoint back.
    const writeTime = writeTimeOf(nextOffset);
    const current = this.checkpointRows.get(partition);
    if (!current || writeTime >= current.writeTime) this.checkpointRows.set(partition, { value: nextOffset, writeTime });
  }

  async checkpoints(): Promise<PartitionOffsets> {
    return new Map([...this.checkpointRows].map(([p, cell]) => [p, String(cell.value)]));
  }

  async writeMarks(): Promise<PartitionOffsets> {
    return new Map([...this.marks].map(([p, offset]) => [p, offset.toString()]));
  }

  async raiseWriteMark(partition: number, offset: string): Promise<void> {
    const current = this.marks.get(partition);
    if (current === undefined || BigInt(offset) > current) this.marks.set(partition, BigInt(offset));
  }
}
