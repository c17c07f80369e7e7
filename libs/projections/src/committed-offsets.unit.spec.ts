import type { PartitionOffsets } from '@parley/event-log';
import { messageSent, userJoined } from '../../domain/src/testing/conversation-fixtures';
import { CommittedOffsets, UNKNOWN_WRITE_MARK, WriteMarks } from './committed-offsets';
import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { TestLog } from './testing/projection-spec';

describe('CommittedOffsets', () => {
  const log = new TestLog(0, 10);
  const events = log.append(userJoined('a'), messageSent('a', 'c1'), messageSent('a', 'c2'), messageSent('a', 'c3')); // 10..13
  const offsets = (list: readonly { position: { offset: string } }[] | null) => list && list.map((e) => e.position.offset);

  let stored: PartitionOffsets;
  let loads: number;
  let committed: CommittedOffsets;

  beforeEach(() => {
    stored = new Map([[0, '12']]);
    loads = 0;
    committed = new CommittedOffsets(async () => {
      loads++;
      return stored;
    });
  });

  it('passes every event of a partition without a checkpoint', async () => {
    expect(offsets(await committed.unapplied(1, events, '14'))).toEqual(['10', '11', '12', '13']);
  });

  it('drops the events before the checkpoint of a chunk that straddles it', async () => {
    expect(offsets(await committed.unapplied(0, events, '14'))).toEqual(['12', '13']);
  });

  it('answers null for a chunk that ends at or before the checkpoint: nothing to write, not even the checkpoint', async () => {
    expect(await committed.unapplied(0, events.slice(0, 2), '12')).toBeNull();
    expect(await committed.unapplied(0, [], '11')).toBeNull();
    expect(offsets(await committed.unapplied(0, [], '13'))).toEqual([]);
  });

  it('loads the checkpoints once, follows its own commits forward only, and loads again after reset()', async () => {
    await committed.unapplied(0, [], '13');
    committed.committed(0, '14');
    committed.committed(0, '13');
    expect(await committed.unapplied(0, events, '14')).toBeNull();
    expect(loads).toBe(1);

    committed.reset();
    expect(offsets(await committed.unapplied(0, events, '14'))).toEqual(['12', '13']);
    expect(loads).toBe(2);
  });

  it('says which partitions had no checkpoint when loaded, and keeps saying so after its own commits, until reset()', async () => {
    expect(() => committed.startedEmpty(0)).toThrow('before the checkpoints were loaded');
    await committed.unapplied(1, events, '14');
    expect([committed.startedEmpty(0), committed.startedEmpty(1)]).toEqual([false, true]);

    committed.committed(1, '14');
    expect(committed.startedEmpty(1)).toBe(true);

    stored = new Map([...stored, [1, '14']]);
    committed.reset();
    await committed.unapplied(1, [], '15');
    expect(committed.startedEmpty(1)).toBe(false);
  });
});

describe('WriteMarks', () => {
  let store: InMemoryReadModelStore;
  let marks: WriteMarks;
  let raises: Array<[number, string]>;

  beforeEach(() => {
    store = new InMemoryReadModelStore();
    marks = new WriteMarks(store);
    raises = [];
    const raise = store.raiseWriteMark.bind(store);
    jest.spyOn(store, 'raiseWriteMark').mockImplementation(async (partition, offset) => {
      raises.push([partition, offset]);
      return raise(partition, offset);
    });
  });

  it('on fresh storage: nothing was ever written, then only what this instance wrote before the chunk', async () => {
    expect(await marks.beforeWriting(0, '0', '10', false)).toBe(0n);
    expect(await marks.beforeWriting(0, '10', '20', false)).toBe(10n);
    expect(await marks.beforeWriting(1, '5', '6', false)).toBe(0n);
  });

  it('raises the stored mark before the chunk is written, a few chunk spans ahead (1,000 offsets at least), so not for every chunk', async () => {
    await marks.beforeWriting(0, '0', '1000', false);
    expect(raises).toEqual([[0, '5000']]); // 1000 + 4 spans of 1000
    await marks.beforeWriting(0, '1000', '2000', false);
    await marks.beforeWriting(0, '2000', '5000', false);
    expect(raises).toHaveLength(1);
    await marks.beforeWriting(0, '5000', '5001', false);
    expect(raises).toEqual([[0, '5000'], [0, '6001']]); // a small chunk: 1,000 offsets ahead
    expect(await store.writeMarks()).toEqual(new Map([[0, '6001']]));
  });

  it('a new instance (or one reset after a failure) treats everything below the stored mark as possibly written', async () => {
    await marks.beforeWriting(0, '0', '1000', false); // a crash after this chunk's rows were written: the mark is 5000

    const restarted = new WriteMarks(store);
    expect(await restarted.beforeWriting(0, '0', '300', false)).toBe(5000n);
    expect(await restarted.beforeWriting(0, '300', '600', false)).toBe(5000n);
    expect(await restarted.beforeWriting(0, '5000', '6000', false)).toBe(5000n);
    expect(await restarted.beforeWriting(0, '6000', '7000', false)).toBe(6000n);

    marks.reset();
    expect(await marks.beforeWriting(0, '0', '1000', false)).toBe(10_000n); // reloaded: the restarted instance raised it to 6000 + 4 spans of 1000
  });

  it('after reset() still counts what this instance wrote, even where no mark says so (storage dropped, say)', async () => {
    await marks.beforeWriting(0, '0', '10', false);
    await store.dropTables([]);
    marks.reset();
    expect(await marks.beforeWriting(0, '0', '10', false)).toBe(10n);
  });

  it('a checkpointed partition without a mark was written before marks existed: anything may be there, for good', async () => {
    await store.commit([], 0, '100');
    expect(await marks.beforeWriting(0, '100', '110', true)).toBe(UNKNOWN_WRITE_MARK);
    expect(raises).toEqual([[0, UNKNOWN_WRITE_MARK.toString()]]);
    expect(await new WriteMarks(store).beforeWriting(0, '110', '120', true)).toBe(UNKNOWN_WRITE_MARK);
    expect(await marks.beforeWriting(1, '0', '10', false)).toBe(0n);
  });
});
