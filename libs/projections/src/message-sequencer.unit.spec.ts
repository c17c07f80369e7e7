import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { bucketOf, MessageDeduplicator, messageIdsTable, OFFSETS_PER_BUCKET } from './message-sequencer';
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
});
