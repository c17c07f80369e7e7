import { InMemoryReadModelStore, type Row, type RowMutation, type TableDefinition } from '@parley/projections';
import type { Client } from 'cassandra-driver';
import { CassandraReadModelStore } from './cassandra-read-model-store';
import { scratchKeyspace } from './testing/scratch-keyspace';

/** Partition (p), clustering (n): several rows per partition, as timeline_messages or inbox_entries. */
const ITEMS: TableDefinition = {
  name: 'items',
  columns: { p: 'text', n: 'bigint', label: 'text', body: 'text', count: 'bigint' },
  partitionKey: ['p'],
  clustering: [{ column: 'n', order: 'ASC' }],
};

/** One row per partition, as the message-id tables. */
const SINGLES: TableDefinition = {
  name: 'singles',
  columns: { id: 'text', value: 'bigint' },
  partitionKey: ['id'],
};

describe('CassandraReadModelStore (real Cassandra)', () => {
  const scratch = scratchKeyspace('store');
  const { keyspace } = scratch;
  let client: Client;
  let version = 0;

  beforeAll(() => {
    client = scratch.client();
  });

  /** A store of a version of its own (so tables of earlier tests are not in the way), and its in-memory twin. */
  const stores = async (batching: ConstructorParameters<typeof CassandraReadModelStore>[4] = {}) => {
    const cassandra = new CassandraReadModelStore(client, keyspace, 'things', ++version, batching);
    const memory = new InMemoryReadModelStore();
    for (const store of [cassandra, memory]) await store.createTables([ITEMS, SINGLES]);
    return { cassandra, memory };
  };

  const rowsOf = async (store: CassandraReadModelStore | InMemoryReadModelStore, partitions: readonly string[], ids: readonly string[]) => {
    const items = await Promise.all(partitions.map((p) => store.list(ITEMS.name, { p })));
    const singles = await Promise.all(ids.map((id) => store.get(SINGLES.name, { id })));
    const plain = (row: Row | undefined) => row && Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));
    return { items: items.map((rows) => rows.map(plain)), singles: singles.map(plain) };
  };

  /** A seeded generator, so that a failure can be replayed. */
  const random = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };

  it.each([
    ['the default batching', {}],
    ['tiny batches (every batch split, shared ones by size too)', { maxPartitionBatch: 3, minPartitionBatch: 2, maxMixedBatch: 5, maxMixedBatchBytes: 300, concurrency: 4 }],
    ['no shared batches', { minPartitionBatch: 1, maxMixedBatch: 1 }],
  ])('with %s, ends with the rows of the in-memory store (last write wins per cell, deletes hide older cells)', async (_name, batching) => {
    const { cassandra, memory } = await stores(batching);
    const next = random(7);
    const partitions = ['a', 'b', 'c', 'd'];
    const ids = Array.from({ length: 40 }, (_, i) => `id${i}`);
    let writeTime = 0n;
    const mutation = (): RowMutation => {
      // Distinct write times: on a tie Cassandra and the in-memory store may pick different values.
      writeTime += BigInt(1 + Math.floor(next() * 3));
      if (next() < 0.4) {
        const id = ids[Math.floor(next() * ids.length)];
        return next() < 0.2 ? { table: SINGLES.name, key: { id }, writeTime } : { table: SINGLES.name, key: { id }, values: { value: writeTime }, writeTime };
      }
      const key = { p: partitions[Math.floor(next() * partitions.length)], n: BigInt(Math.floor(next() * 12)) };
      if (next() < 0.25) return { table: ITEMS.name, key, writeTime };
      const values: Record<string, string | bigint> = {};
      if (next() < 0.7) values.label = `label ${writeTime}`;
      if (next() < 0.3) values.body = 'x'.repeat(Math.floor(next() * 200));
      if (next() < 0.5) values.count = writeTime;
      return { table: ITEMS.name, key, values, writeTime };
    };
    const all = Array.from({ length: 600 }, mutation);
    // In slices, shuffled: a write's statements land in any order, and writes may be replayed.
    for (let i = 0; i < all.length; i += 150) {
      const slice = all.slice(i, i + 150).sort(() => next() - 0.5);
      await cassandra.write(slice);
      await memory.write(slice);
    }
    await cassandra.write(all.slice(0, 200));
    await memory.write(all.slice(0, 200));

    const expected = await rowsOf(memory, partitions, ids);
    expect(expected.items.flat().length).toBeGreaterThan(10);
    expect(await rowsOf(cassandra, partitions, ids)).toEqual(expected);
  });

  it('keeps a shared batch under its byte limit, and a partition\'s statements together in batches of at most maxPartitionBatch', async () => {
    const { cassandra } = await stores({ maxPartitionBatch: 20, minPartitionBatch: 5, maxMixedBatch: 1000, maxMixedBatchBytes: 16 * 1024 });
    const batch = jest.spyOn(client, 'batch');
    const big: RowMutation[] = Array.from({ length: 60 }, (_, i) => ({ table: ITEMS.name, key: { p: `big${i}`, n: 1n }, values: { body: 'é'.repeat(1000) }, writeTime: 1n }));
    const many: RowMutation[] = Array.from({ length: 45 }, (_, i) => ({ table: ITEMS.name, key: { p: 'many', n: BigInt(i) }, values: { label: 'l' }, writeTime: 1n }));
    await cassandra.write([...big, ...many]);

    const batches = batch.mock.calls.map(([queries]) => queries as Array<{ params: unknown[] }>);
    const partitionsOf = (queries: Array<{ params: unknown[] }>) => new Set(queries.map((q) => q.params[0]));
    const shared = batches.filter((b) => partitionsOf(b).size > 1);
    expect(shared.length).toBeGreaterThanOrEqual(4); // 60 bodies of about 2 KiB in batches of 16 KiB
    for (const b of shared) expect(b.length).toBeLessThanOrEqual(8);
    const own = batches.filter((b) => partitionsOf(b).has('many'));
    expect(own.map((b) => [b.length, partitionsOf(b).size])).toEqual([[20, 1], [20, 1], [5, 1]]);
    expect((await cassandra.list(ITEMS.name, { p: 'many' })).length).toBe(45);
    batch.mockRestore();
  });

  it('write marks only rise (last write wins by the mark\'s own write time) and go with the tables', async () => {
    const { cassandra } = await stores();
    expect(await cassandra.writeMarks()).toEqual(new Map());
    await cassandra.raiseWriteMark(0, '100');
    await cassandra.raiseWriteMark(0, '40');
    await cassandra.raiseWriteMark(3, '7');
    expect(await cassandra.writeMarks()).toEqual(new Map([[0, '100'], [3, '7']]));

    await cassandra.dropTables([ITEMS, SINGLES]);
    await cassandra.createTables([ITEMS, SINGLES]);
    expect(await cassandra.writeMarks()).toEqual(new Map());
    await cassandra.raiseWriteMark(0, '5');
    expect(await cassandra.writeMarks()).toEqual(new Map([[0, '5']]));
  });

  it('commits state rows with the checkpoint, per partition', async () => {
    const { cassandra } = await stores();
    await cassandra.commit([{ table: SINGLES.name, key: { id: 'state' }, values: { value: 9n }, writeTime: 160n }], 2, '10');
    await cassandra.commit([], 2, '12');
    await cassandra.commit([], 0, '3');
    expect(await cassandra.get(SINGLES.name, { id: 'state' })).toEqual({ id: 'state', value: 9n });
    expect(await cassandra.checkpoints()).toEqual(new Map([[0, '3'], [2, '12']]));
  });
});
