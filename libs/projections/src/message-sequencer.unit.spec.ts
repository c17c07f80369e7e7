import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { BloomFilter, bucketOf, MessageDeduplicator, messageIdsTable, OFFSETS_PER_BUCKET } from './message-sequencer';
import type { RowMutation } from './read-model-store.port';

const TABLE = messageIdsTable('test');
const C = 'g_conversation';

describe('bucketOf', () => {
  it('puts 100,000 consecutive offsets in one bucket', () => {
    expect(OFFSETS_PER_BUCKET).toBe(100_000n);
    expect([bucketOf('0'), bucketOf('99999'), bucketOf('100000'), bucketOf('9007199254740993')]).toEqual([
      0n,
      0n,
      1n,
      90_071_992_547n,
    ]);
  });
});

describe('MessageDeduplicator', () => {
  let store: InMemoryReadModelStore;

  beforeEach(async () => {
    store = new InMemoryReadModelStore();
    await store.createTables([TABLE]);
  });

  const message = (messageId: string) => ({ conversationId: C, messageId });

  it('takes the first occurrence as the message and records its offset; later ones are duplicates', async () => {
    const dedup = new MessageDeduplicator(store, TABLE.name);
    const data: RowMutation[] = [];
    await dedup.prefetch([message('m1'), message('m1')]);

    expect(dedup.isDuplicate(C, 'm1', '5', data)).toBe(false);
    expect(dedup.isDuplicate(C, 'm1', '9', data)).toBe(true);
    expect(dedup.isDuplicate('g_other', 'm1', '10', data)).toBe(false);
    expect(data).toStrictEqual([
      { table: TABLE.name, key: { conversation_id: C, message_id: 'm1' }, values: { offset: 5n }, writeTime: 80n },
      { table: TABLE.name, key: { conversation_id: 'g_other', message_id: 'm1' }, values: { offset: 10n }, writeTime: 160n },
    ]);
  });

  it('neither looks up, remembers nor writes numbered messages (MessageSent.seq), never duplicates', async () => {
    await store.write([{ table: TABLE.name, key: { conversation_id: C, message_id: 'm1' }, values: { offset: 5n }, writeTime: 80n }]);
    const dedup = new MessageDeduplicator(store, TABLE.name);
    const get = jest.spyOn(store, 'get');
    await dedup.prefetch([{ ...message('m2'), seq: 7 }]);
    const data: RowMutation[] = [];

    expect(get).not.toHaveBeenCalled();
    expect(dedup.isDuplicate(C, 'm2', '9', data, 7)).toBe(false);
    expect(data).toHaveLength(0);
  });

  it('finds first occurrences of earlier chunks in storage; the first occurrence itself, applied again, is no duplicate', async () => {
    await store.write([{ table: TABLE.name, key: { conversation_id: C, message_id: 'm1' }, values: { offset: 5n }, writeTime: 80n }]);
    const dedup = new MessageDeduplicator(store, TABLE.name);
    await dedup.prefetch([message('m1')]);
    const data: RowMutation[] = [];

    expect(dedup.isDuplicate(C, 'm1', '5', data)).toBe(false);
    expect(dedup.isDuplicate(C, 'm1', '7', data)).toBe(true);
    expect(data).toHaveLength(1);
  });

  it('forgets nothing in the middle of a chunk, even beyond its memory bound', async () => {
    // Bound 2; the chunk holds a message of storage (x) and three new ones, then duplicates of both kinds.
    await store.write([{ table: TABLE.name, key: { conversation_id: C, message_id: 'x' }, values: { offset: 1n }, writeTime: 16n }]);
    const dedup = new MessageDeduplicator(store, TABLE.name, 2);
    await dedup.prefetch(['x', 'a', 'b', 'c', 'a', 'x'].map(message));
    const data: RowMutation[] = [];

    expect(['a', 'b', 'c'].map((id, i) => dedup.isDuplicate(C, id, String(10 + i), data))).toEqual([false, false, false]);
    expect(dedup.isDuplicate(C, 'a', '20', data)).toBe(true);
    expect(dedup.isDuplicate(C, 'x', '21', data)).toBe(true);
  });

  it('forgets between chunks once over its bound, and then looks ids up in storage again', async () => {
    const dedup = new MessageDeduplicator(store, TABLE.name, 2);
    const data: RowMutation[] = [];
    await dedup.prefetch(['a', 'b'].map(message));
    dedup.isDuplicate(C, 'a', '1', data);
    dedup.isDuplicate(C, 'b', '2', data);
    await store.write(data);
    const get = jest.spyOn(store, 'get');

    await dedup.prefetch([message('a')]); // 2 remembered + 1 > 2: forgets, then fetches `a`
    expect(get).toHaveBeenCalledTimes(1);
    expect(dedup.isDuplicate(C, 'a', '3', [])).toBe(true);
  });

  it('remembers below its bound: no lookups for ids it has seen', async () => {
    const dedup = new MessageDeduplicator(store, TABLE.name, 10);
    await dedup.prefetch([message('a')]);
    dedup.isDuplicate(C, 'a', '1', []);
    const get = jest.spyOn(store, 'get');

    await dedup.prefetch([message('a')]);
    expect(get).not.toHaveBeenCalled();
    expect(dedup.isDuplicate(C, 'a', '3', [])).toBe(true);
  });

  it('reset() forgets everything: ids are looked up in storage again', async () => {
    const dedup = new MessageDeduplicator(store, TABLE.name);
    await dedup.prefetch([message('a')]);
    dedup.isDuplicate(C, 'a', '1', []); // recorded in memory only: its row was never written
    dedup.reset();

    await dedup.prefetch([message('a')]);
    expect(dedup.isDuplicate(C, 'a', '3', [])).toBe(false);
  });

  describe('in a partition applied from the start of the log (fromStart)', () => {
    const record = (dedup: MessageDeduplicator, id: string, offset: number, data: RowMutation[] = []) => dedup.isDuplicate(C, id, String(offset), data);

    it('looks nothing up, and still recognises duplicates of earlier chunks and of the same chunk', async () => {
      const dedup = new MessageDeduplicator(store, TABLE.name);
      const get = jest.spyOn(store, 'get');
      await dedup.prefetch(['a', 'b', 'a'].map(message), true);
      expect([record(dedup, 'a', 1), record(dedup, 'b', 2), record(dedup, 'a', 3)]).toEqual([false, false, true]);
      await dedup.prefetch(['b', 'c'].map(message), true);
      expect([record(dedup, 'b', 4), record(dedup, 'c', 5)]).toEqual([true, false]);
      expect(get).not.toHaveBeenCalled();
    });

    it('takes an id it never saw for new even when storage has it at a later offset (rows of a crashed attempt, ahead)', async () => {
      await store.write([{ table: TABLE.name, key: { conversation_id: C, message_id: 'a' }, values: { offset: 9n }, writeTime: 144n }]);
      const dedup = new MessageDeduplicator(store, TABLE.name);
      await dedup.prefetch([message('a')], true);
      expect(record(dedup, 'a', 9)).toBe(false);
    });

    it('after forgetting (over its bound), looks up exactly the ids it may have forgotten, and recognises their duplicates', async () => {
      const dedup = new MessageDeduplicator(store, TABLE.name, 3);
      const data: RowMutation[] = [];
      await dedup.prefetch(['a', 'b', 'c'].map(message), true);
      ['a', 'b', 'c'].forEach((id, i) => record(dedup, id, i, data));
      await store.write(data); // the chunk is stored, then the next one comes
      const get = jest.spyOn(store, 'get');

      const fresh = Array.from({ length: 200 }, (_, i) => `new${i}`);
      await dedup.prefetch(['a', ...fresh].map(message), true); // 3 + 201 > 3: forgets a, b, c
      // A forgotten id is always looked up; a new one only when the filter is wrong about it (rarely).
      const lookedUp = get.mock.calls.map(([, key]) => key.message_id);
      expect(lookedUp).toContain('a');
      expect(lookedUp.length).toBeLessThan(10);
      expect(record(dedup, 'a', 10)).toBe(true);
      expect(fresh.map((id, i) => record(dedup, id, 11 + i)).filter(Boolean)).toEqual([]);
    });

    it('a resumed partition (fromStart false) looks up every id it does not remember', async () => {
      await store.write([{ table: TABLE.name, key: { conversation_id: C, message_id: 'a' }, values: { offset: 1n }, writeTime: 16n }]);
      const dedup = new MessageDeduplicator(store, TABLE.name);
      const get = jest.spyOn(store, 'get');
      await dedup.prefetch(['a', 'b'].map(message));
      expect(get).toHaveBeenCalledTimes(2);
      expect([record(dedup, 'a', 5), record(dedup, 'b', 6)]).toEqual([true, false]);
    });

    it('reset() forgets what it forgot too: only storage knows then', async () => {
      const dedup = new MessageDeduplicator(store, TABLE.name, 1);
      await dedup.prefetch([message('a')], true);
      record(dedup, 'a', 1);
      await dedup.prefetch([message('b')], true); // forgets a
      dedup.reset();
      const get = jest.spyOn(store, 'get');
      await dedup.prefetch([message('a')], false);
      expect(get).toHaveBeenCalledTimes(1);
    });
  });
});

describe('BloomFilter', () => {
  it('never says no for a value it holds, and rarely yes for one it does not', () => {
    const filter = new BloomFilter(10_000);
    const held = Array.from({ length: 10_000 }, (_, i) => `g_${i}\nm_${i * 7}`);
    held.forEach((v) => filter.add(v));
    expect(held.every((v) => filter.mayHave(v))).toBe(true);
    const others = Array.from({ length: 100_000 }, (_, i) => `g_${i}\nm_other_${i}`);
    expect(others.filter((v) => filter.mayHave(v)).length).toBeLessThan(300); // 0.1% expected, 0.3% allowed
  });
});
