import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { ProjectionRegistry, type Projection } from './projection';
import { coalesce, writeTimeOf, type CellValue, type Row, type RowMutation, type TableDefinition } from './read-model-store.port';

const THINGS: TableDefinition = {
  name: 'things',
  columns: { id: 'text', a: 'text', b: 'bigint' },
  partitionKey: ['id'],
};

/** Partition (p), clustering (at DESC, n ASC): a miniature inbox_by_activity. */
const ORDERED: TableDefinition = {
  name: 'ordered',
  columns: { p: 'text', at: 'text', n: 'bigint', label: 'text' },
  partitionKey: ['p'],
  clustering: [
    { column: 'at', order: 'DESC' },
    { column: 'n', order: 'ASC' },
  ],
};

describe('writeTimeOf', () => {
  it('gives 16 steps per offset, so that every step of an event is before the next event', () => {
    expect(writeTimeOf('0')).toBe(0n);
    expect(writeTimeOf('3', 2)).toBe(50n);
    expect(writeTimeOf('3', 15) < writeTimeOf('4')).toBe(true);
    expect(writeTimeOf('9223372036854775807', 15)).toBe(9223372036854775807n * 16n + 15n);
  });
});

describe('InMemoryReadModelStore', () => {
  let store: InMemoryReadModelStore;

  beforeEach(async () => {
    store = new InMemoryReadModelStore();
    await store.createTables([THINGS, ORDERED]);
  });

  const put = (key: Row, values: Row, writeTime: bigint, table = THINGS.name) => store.write([{ table, key, values, writeTime }]);
  const del = (key: Row, writeTime: bigint, table = THINGS.name) => store.write([{ table, key, writeTime }]);
  const thing = () => store.get(THINGS.name, { id: 't' });

  describe('last write wins, per cell', () => {
    it('keeps, per column, the value with the highest write time, whatever order the writes arrive in', async () => {
      await put({ id: 't' }, { a: 'new', b: 1n }, 10n);
      await put({ id: 't' }, { a: 'old', b: 2n }, 5n);
      await put({ id: 't' }, { b: 3n }, 11n);

      expect(await thing()).toStrictEqual({ id: 't', a: 'new', b: 3n });
    });

    it('breaks a tie of write times by the larger value, in either order', async () => {
      const other = new InMemoryReadModelStore();
      await other.createTables([THINGS]);
      await put({ id: 't' }, { a: 'x', b: 1n }, 7n);
      await put({ id: 't' }, { a: 'y', b: 2n }, 7n);
      await other.write([{ table: THINGS.name, key: { id: 't' }, values: { a: 'y', b: 2n }, writeTime: 7n }]);
      await other.write([{ table: THINGS.name, key: { id: 't' }, values: { a: 'x', b: 1n }, writeTime: 7n }]);

      expect(await thing()).toStrictEqual({ id: 't', a: 'y', b: 2n });
      expect(await other.get(THINGS.name, { id: 't' })).toStrictEqual({ id: 't', a: 'y', b: 2n });
    });

    it('stores null as a value that overwrites older ones', async () => {
      await put({ id: 't' }, { a: 'x' }, 1n);
      await put({ id: 't' }, { a: null }, 2n);

      expect(await thing()).toStrictEqual({ id: 't', a: null });
    });
  });

  describe('row deletes', () => {
    it('hide cells written at or before the delete', async () => {
      await put({ id: 't' }, { a: 'x', b: 1n }, 5n);
      await del({ id: 't' }, 5n);

      expect(await thing()).toBeUndefined();
      expect(store.rows(THINGS.name)).toEqual([]);
    });

    it('do not hide cells written after them: only those show', async () => {
      await put({ id: 't' }, { a: 'x', b: 1n }, 5n);
      await put({ id: 't' }, { a: 'y' }, 8n);
      await del({ id: 't' }, 6n);

      expect(await thing()).toStrictEqual({ id: 't', a: 'y' });
    });

    it('hide older writes that arrive after them (a replay), not newer ones', async () => {
      await del({ id: 't' }, 9n);
      await put({ id: 't' }, { a: 'older' }, 8n);
      expect(await thing()).toBeUndefined();

      await put({ id: 't' }, { a: 'newer' }, 10n);
      expect(await thing()).toStrictEqual({ id: 't', a: 'newer' });
    });

    it('keep the latest of several deletes', async () => {
      await del({ id: 't' }, 9n);
      await del({ id: 't' }, 3n);
      await put({ id: 't' }, { a: 'x' }, 6n);

      expect(await thing()).toBeUndefined();
    });
  });

  it('keeps a row written with key columns only (an INSERT writes a row marker)', async () => {
    await put({ id: 't' }, {}, 1n);
    expect(await thing()).toStrictEqual({ id: 't' });

    await del({ id: 't' }, 2n);
    expect(await thing()).toBeUndefined();
    await put({ id: 't' }, {}, 3n);
    expect(await thing()).toStrictEqual({ id: 't' });
  });

  it('lists the rows of one partition in clustering order', async () => {
    const row = (p: string, at: string, n: bigint, label: string) => ({
      table: ORDERED.name, key: { p, at, n }, values: { label }, writeTime: 1n,
    });
    await store.write([
      row('p1', '2025-01-01', 2n, 'old, 2'),
      row('p1', '2025-02-01', 10n, 'new, 10'),
      row('p2', '2025-03-01', 1n, 'other partition'),
      row('p1', '2025-01-01', 1n, 'old, 1'),
      row('p1', '2025-02-01', 9n, 'new, 9'),
    ]);
    await store.write([{ table: ORDERED.name, key: { p: 'p1', at: '2025-01-01', n: 2n }, writeTime: 2n }]);

    expect((await store.list(ORDERED.name, { p: 'p1' })).map((r) => r.label)).toEqual(['new, 9', 'new, 10', 'old, 1']);
    expect(await store.list(ORDERED.name, { p: 'p3' })).toEqual([]);
  });

  it('orders bigint clustering columns numerically (10 after 9) and finds keys whatever their number type', async () => {
    await store.write([9n, 10n, 100n].map((n) => ({ table: ORDERED.name, key: { p: 'p', at: 'x', n }, values: { label: `${n}` }, writeTime: 1n })));

    expect((await store.list(ORDERED.name, { p: 'p' })).map((r) => r.n)).toEqual([9n, 10n, 100n]);
    expect(await store.get(ORDERED.name, { p: 'p', at: 'x', n: 10 })).toMatchObject({ label: '10' });
  });

  it('list and get agree on keys given as number or bigint', async () => {
    const BUCKETS: TableDefinition = { name: 'buckets', columns: { c: 'text', bucket: 'bigint', n: 'int' }, partitionKey: ['c', 'bucket'], clustering: [{ column: 'n', order: 'ASC' }] };
    await store.createTables([BUCKETS]);
    await store.write([{ table: BUCKETS.name, key: { c: 'c', bucket: 1n, n: 1 }, values: {}, writeTime: 1n }]);

    expect(await store.list(BUCKETS.name, { c: 'c', bucket: 1 })).toStrictEqual([{ c: 'c', bucket: 1n, n: 1 }]);
    expect(await store.list(BUCKETS.name, { c: 'c', bucket: 1n })).toStrictEqual([{ c: 'c', bucket: 1n, n: 1 }]);
  });

  describe('tables', () => {
    it('refuses a table it does not have', async () => {
      await expect(store.get('nope', { id: 't' })).rejects.toThrow('No table nope');
      await expect(store.write([{ table: 'nope', key: {}, writeTime: 1n }])).rejects.toThrow('No table nope');
    });

    it('creating existing tables keeps their rows; dropping removes them and the checkpoints', async () => {
      await put({ id: 't' }, { a: 'x' }, 1n);
      await store.commit([], 0, '5');
      await store.createTables([THINGS]);
      expect(await thing()).toStrictEqual({ id: 't', a: 'x' });

      await store.dropTables([THINGS]);
      await expect(thing()).rejects.toThrow('No table things');
      expect(await store.checkpoints()).toEqual(new Map());
      await store.createTables([THINGS]);
      expect(await thing()).toBeUndefined();
    });
  });

  describe('failNextWrites', () => {
    it('makes the next n writes throw a retriable error and apply nothing', async () => {
      store.failNextWrites = 2;
      const attempt = () => put({ id: 't' }, { a: 'x' }, 1n);

      await expect(attempt()).rejects.toMatchObject({ message: 'simulated storage failure', retriable: true });
      await expect(attempt()).rejects.toThrow('simulated storage failure');
      expect(await thing()).toBeUndefined();
      await attempt();
      expect(await thing()).toStrictEqual({ id: 't', a: 'x' });
    });

    it('counts a commit as a write: a failed commit records neither its state nor its checkpoint', async () => {
      store.failNextWrites = 1;
      await expect(store.commit([{ table: THINGS.name, key: { id: 't' }, values: { a: 's' }, writeTime: 16n }], 0, '1')).rejects.toThrow();

      expect(await thing()).toBeUndefined();
      expect(await store.checkpoints()).toEqual(new Map());
    });
  });

  describe('checkpoints', () => {
    it('commit writes the state rows and records the next offset per partition', async () => {
      await store.commit([{ table: THINGS.name, key: { id: 't' }, values: { a: 'state' }, writeTime: writeTimeOf('7') }], 0, '7');
      await store.commit([], 3, '12');

      expect(await thing()).toStrictEqual({ id: 't', a: 'state' });
      expect(await store.checkpoints()).toEqual(new Map([[0, '7'], [3, '12']]));
    });

    it('moves forward only: committing an older offset again leaves the checkpoint (last write wins)', async () => {
      await store.commit([], 0, '20');
      await store.commit([], 0, '9');
      expect(await store.checkpoints()).toEqual(new Map([[0, '20']]));

      await store.commit([], 0, '100');
      expect(await store.checkpoints()).toEqual(new Map([[0, '100']]));
    });
  });
});

describe('InMemoryReadModelStore write marks', () => {
  it('only rise, per partition, and go with the tables', async () => {
    const store = new InMemoryReadModelStore();
    await store.createTables([THINGS]);
    expect(await store.writeMarks()).toEqual(new Map());

    await store.raiseWriteMark(0, '10');
    await store.raiseWriteMark(0, '7');
    await store.raiseWriteMark(2, '3');
    expect(await store.writeMarks()).toEqual(new Map([[0, '10'], [2, '3']]));
    await store.raiseWriteMark(0, '11');
    expect((await store.writeMarks()).get(0)).toBe('11');

    await store.dropTables([THINGS]);
    expect(await store.writeMarks()).toEqual(new Map());
  });
});

describe('coalesce', () => {
  const T = THINGS.name;
  const put = (id: string, values: Row, writeTime: bigint): RowMutation => ({ table: T, key: { id }, values, writeTime });
  const del = (id: string, writeTime: bigint): RowMutation => ({ table: T, key: { id }, writeTime });

  it('drops what a later delete of the row hides: inserts and deletes at or before it', () => {
    const later = del('t', 5n);
    expect(coalesce([put('t', { a: 'x' }, 3n), del('t', 4n), put('t', { b: 1n }, 5n), later])).toStrictEqual([later]);
  });

  it('keeps a delete followed by an insert: the delete still hides older cells the insert does not write', () => {
    const mutations = [del('t', 4n), put('t', { a: 'x' }, 6n)];
    expect(coalesce(mutations)).toStrictEqual(mutations);
    expect(coalesce([del('t', 4n), put('t', {}, 4n)])).toHaveLength(2);
  });

  it('drops an insert whose every column (and row marker) later inserts write, together', () => {
    const kept = [put('t', { a: 'y' }, 5n), put('t', { b: 2n, c: 'z' }, 6n)];
    expect(coalesce([put('t', { a: 'x', b: 1n }, 4n), ...kept])).toStrictEqual(kept);
    expect(coalesce([put('t', {}, 1n), put('t', { a: 'x' }, 2n)])).toStrictEqual([put('t', { a: 'x' }, 2n)]);
  });

  it('keeps an insert with a column no later insert writes', () => {
    const mutations = [put('t', { a: 'x', read: 1n }, 4n), put('t', { a: 'y' }, 5n)];
    expect(coalesce(mutations)).toStrictEqual(mutations);
  });

  it('at the same write time, drops an insert only when the other writes the same values (else storage keeps the larger one)', () => {
    const covered = put('t', { a: 'x' }, 4n);
    const cover = put('t', { a: 'x', b: 1n }, 4n);
    expect(coalesce([covered, cover])).toStrictEqual([cover]);
    expect(coalesce([put('t', { a: 'x' }, 4n), put('t', { a: 'w' }, 4n)])).toHaveLength(2);
    expect(coalesce([put('t', { a: null }, 4n), put('t', { a: 'x' }, 4n)])).toHaveLength(2);
  });

  it('goes by write time, not by list order', () => {
    const newer = put('t', { a: 'new' }, 9n);
    expect(coalesce([newer, put('t', { a: 'old' }, 3n)])).toStrictEqual([newer]);
    expect(coalesce([del('t', 9n), put('t', { a: 'old' }, 3n)])).toStrictEqual([del('t', 9n)]);
  });

  it('compares keys as storage does (1n and 1 are one key), and leaves other rows and tables alone', () => {
    const ordered = (n: number | bigint, writeTime: bigint): RowMutation => ({ table: ORDERED.name, key: { p: 'p', at: 'x', n }, values: { label: 'l' }, writeTime });
    expect(coalesce([ordered(1n, 1n), ordered(1, 2n)])).toStrictEqual([ordered(1, 2n)]);
    const distinct = [put('t', { a: 'x' }, 1n), put('u', { a: 'x' }, 1n), ordered(1n, 1n), ordered(2n, 1n)];
    expect(coalesce(distinct)).toStrictEqual(distinct);
  });

  it('given tables, coalesces only their mutations and keeps the others as they are', () => {
    const other = (writeTime: bigint): RowMutation => ({ table: ORDERED.name, key: { p: 'p', at: 'x', n: 1n }, values: { label: 'l' }, writeTime });
    expect(coalesce([put('t', { a: 'x' }, 1n), other(1n), put('t', { a: 'y' }, 2n), other(2n)], new Set([T]))).toStrictEqual([other(1n), put('t', { a: 'y' }, 2n), other(2n)]);
  });

  /** A small seeded generator, so that a failure can be replayed. */
  const random = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };

  it('leaves storage exactly as the full list would, whatever storage held (10,000 random lists)', async () => {
    const next = random(42);
    const pick = <V>(items: readonly V[]): V => items[Math.floor(next() * items.length)];
    // A column has one type, as in Cassandra.
    const values: Record<string, CellValue[]> = { a: ['x', 'y', null], b: [1n, 2n, null], c: ['p', 'q'] };
    const mutation = (): RowMutation => {
      const id = pick(['t', 'u', 'v']);
      const writeTime = BigInt(Math.floor(next() * 6));
      if (next() < 0.3) return del(id, writeTime);
      const row: Record<string, CellValue> = {};
      for (const column of ['a', 'b', 'c']) if (next() < 0.5) row[column] = pick(values[column]);
      return put(id, row, writeTime);
    };
    let dropped = 0;
    for (let run = 0; run < 10_000; run++) {
      const before = Array.from({ length: Math.floor(next() * 3) }, mutation);
      const mutations = Array.from({ length: 1 + Math.floor(next() * 8) }, mutation);
      const coalesced = coalesce(mutations);
      dropped += mutations.length - coalesced.length;
      const [full, reduced] = [new InMemoryReadModelStore(), new InMemoryReadModelStore()];
      for (const store of [full, reduced]) {
        await store.createTables([THINGS]);
        await store.write(before);
      }
      await full.write(mutations);
      await reduced.write(coalesced);
      const rows = (store: InMemoryReadModelStore) => [...store.rows(T)].sort((x, y) => String(x.id).localeCompare(String(y.id)));
      expect({ run, mutations, rows: rows(full) }).toEqual({ run, mutations, rows: rows(reduced) });
    }
    expect(dropped).toBeGreaterThan(10_000); // the rules did fire
  });
});

describe('ProjectionRegistry', () => {
  const projection = (name: string, version = 1): Projection => ({
    name,
    version,
    handles: new Set(),
    createStorage: async () => undefined,
    dropStorage: async () => undefined,
    checkpoints: async () => new Map(),
    apply: async () => [],
    reset: () => undefined,
  });

  it('refuses a second projection with the same name, even of another version', () => {
    const registry = new ProjectionRegistry().register(projection('timeline'));

    expect(() => registry.register(projection('timeline', 2))).toThrow('A projection named "timeline" is already registered');
    expect(registry.all().map((p) => [p.name, p.version])).toEqual([['timeline', 1]]);
  });

  it('finds projections by name and lists them in registration order', () => {
    const timeline = projection('timeline');
    const inbox = projection('inbox');
    const registry = new ProjectionRegistry().register(timeline).register(inbox);

    expect(registry.get('inbox')).toBe(inbox);
    expect(registry.get('presence')).toBeUndefined();
    expect(registry.all()).toEqual([timeline, inbox]);
  });
});
