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
  /** The projection's own state rows and its checkpoint for one partition, atomically. */
  commit(state: readonly RowMutation[], partition: number, nextOffset: string): Promise<void>;
  checkpoints(): Promise<PartitionOffsets>;
}

/** Write times: 16 steps per log offset, so one event can order its own writes (delete, then insert). */
export function writeTimeOf(offset: string, step = 0): bigint {
  return BigInt(offset) * 16n + BigInt(step);
}
