import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { ProjectionRegistry, type Projection } from './projection';
import { writeTimeOf, type Row, type TableDefinition } from './read-model-store.port';

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
