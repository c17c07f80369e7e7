import type { PartitionOffsets } from '@parley/event-log';

export type CellValue = string | number | bigint | boolean | null;
export type Row = Readonly<Record<string, CellValue>>;

/** A table of a projection, named without its version (the store appends `_v<version>`). */
export interface TableDefinition {
  readonly name: string;
  /** Column name -> CQL type (text, bigint, int, boolean, timestamp). */
  readonly columns: Readonly<Record<string, 'text' | 'bigint' | 'int' | 'boolean' | 'timestamp'>>;
  readonly partitionKey: readonly string[];
  readonly clustering?: ReadonlyArray<{ readonly column: string; readonly order: 'ASC' | 'DESC' }>;
  /**
   * Columns readers look rows up by, across partitions: each gets a secondary index kept with
   * the rows themselves (Cassandra's storage-attached index), so it costs no write of its own.
   */
  readonly indexed?: readonly string[];
}

/**
 * One row write or delete. `writeTime` comes from the event's log position, so storage
 * resolves every conflict to the latest event (last write wins by position): applying the
 * same events again, or in a different order, gives the same rows.
 */
export interface RowMutation {
  readonly table: string;
  readonly key: Row;
  /** The columns to set; absent means delete the row. */
  readonly values?: Row;
  readonly writeTime: bigint;
}

export interface ReadModelStore {
  createTables(tables: readonly TableDefinition[]): Promise<void>;
  dropTables(tables: readonly TableDefinition[]): Promise<void>;
  get(table: string, key: Row): Promise<Row | undefined>;
  /** Rows of one partition key, in clustering order (optionally only a clustering range). */
  list(table: string, partitionKey: Row): Promise<Row[]>;
  /** Idempotent row writes, in any order. */
  write(mutations: readonly RowMutation[]): Promise<void>;
  /**
   * The projection's own state rows and its checkpoint for one partition. `atomic`: both or
   * neither (state a replay counts on from, e.g. the number of the last unnumbered message,
   * must never be ahead of the checkpoint). Otherwise the state is stored first and the
   * checkpoint after it: state is never behind the checkpoint, and may be ahead of it after a
   * crash (the replay of the events in between then finds them applied and converges).
   */
  commit(state: readonly RowMutation[], partition: number, nextOffset: string, atomic?: boolean): Promise<void>;
  checkpoints(): Promise<PartitionOffsets>;
  /**
   * Per partition, an offset such that no row derived from an event at or after it has ever
   * been written, by any instance (absent: none at all). See `raiseWriteMark`.
   */
  writeMarks(): Promise<PartitionOffsets>;
  /**
   * Says that rows derived from events before `offset` may be written from now on; call it
   * before writing them. A mark only rises: a lower offset than the stored one changes nothing.
   */
  raiseWriteMark(partition: number, offset: string): Promise<void>;
}

/** Write times: 16 steps per log offset, so one event can order its own writes (delete, then insert). */
export function writeTimeOf(offset: string, step = 0): bigint {
  return BigInt(offset) * 16n + BigInt(step);
}

/**
 * Identifies a row: its table and key columns, values as storage compares them (1n and 1 are
 * one key). Columns in another order give another id: such mutations are simply not coalesced.
 */
export function rowId(table: string, key: Row): string {
  let id = table;
  for (const column in key) id += `\u0000${column}\u0001${String(key[column])}`;
  return id;
}

/**
 * The mutations without those that change nothing next to the others, whatever storage held
 * before: what remains leaves every cell as all of them would (last write wins by write time).
 *
 * A mutation is redundant when a mutation of the same row with a write time at least as high
 * comes after it in (write time, list order):
 * - a delete (it hides every cell written at or before it, tie included), or
 * - inserts that, together, write every column it writes (and the row marker), each later than
 *   it or at the same write time with the same value (on a tie, storage keeps the larger value).
 * A delete is never made redundant by an insert: a delete followed by an insert keeps both, the
 * delete still hides the row's older cells that the insert does not write.
 *
 * `tables`: only mutations of these tables are considered (the others are kept as they are,
 * without the cost of comparing their keys), for callers that know which tables can repeat a row.
 */
export function coalesce(mutations: readonly RowMutation[], tables?: ReadonlySet<string>): RowMutation[] {
  /** Row -> the index of its only mutation, or of all of them. */
  const byRow = new Map<string, number | number[]>();
  let repeated = false;
  for (let i = 0; i < mutations.length; i++) {
    const { table, key } = mutations[i];
    if (tables && !tables.has(table)) continue;
    const id = rowId(table, key);
    const seen = byRow.get(id);
    if (seen === undefined) {
      byRow.set(id, i);
    } else {
      repeated = true;
      if (typeof seen === 'number') byRow.set(id, [seen, i]);
      else seen.push(i);
    }
  }
  if (!repeated) return [...mutations];

  const redundant = new Uint8Array(mutations.length);
  /** Per column, the highest write time a later insert gives it, and the values written at that time. */
  const later = new Map<string, { writeTime: bigint; values: CellValue[] }>();
  for (const indices of byRow.values()) {
    if (typeof indices === 'number') continue;
    // Projections list a row's mutations in log order already: sort only when they are not.
    for (let j = 1; j < indices.length; j++) {
      if (mutations[indices[j - 1]].writeTime > mutations[indices[j]].writeTime) {
        indices.sort((a, b) => {
          const x = mutations[a].writeTime;
          const y = mutations[b].writeTime;
          return x < y ? -1 : x > y ? 1 : a - b;
        });
        break;
      }
    }
    later.clear();
    let laterInsert = false;
    let laterDelete = false;
    for (let j = indices.length - 1; j >= 0; j--) {
      const { values, writeTime } = mutations[indices[j]];
      if (laterDelete) {
        redundant[indices[j]] = 1;
      } else if (!values) {
        laterDelete = true;
      } else if (laterInsert && coveredByLater(values, writeTime, later)) {
        redundant[indices[j]] = 1;
      } else {
        laterInsert = true;
        for (const column in values) {
          const cell = later.get(column);
          if (!cell) later.set(column, { writeTime, values: [values[column]] });
          else if (cell.writeTime === writeTime) cell.values.push(values[column]);
        }
      }
    }
  }
  return mutations.filter((_, i) => redundant[i] === 0);
}

/** True when later inserts write every column of `values`, each later or at the same write time with the same value. */
function coveredByLater(values: Row, writeTime: bigint, later: ReadonlyMap<string, { writeTime: bigint; values: CellValue[] }>): boolean {
  for (const column in values) {
    const cell = later.get(column);
    if (cell === undefined || (cell.writeTime === writeTime && !cell.values.includes(values[column]))) return false;
  }
  return true;
}
