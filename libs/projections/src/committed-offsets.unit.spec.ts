import type { PartitionOffsets } from '@parley/event-log';
import { messageSent, userJoined } from '../../domain/src/testing/conversation-fixtures';
import { CommittedOffsets } from './committed-offsets';
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
});
