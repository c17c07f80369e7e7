import { ALICE, BOB, CAROL, groupWith, messageSent, OTHER_GROUP_ID, readMarkerMoved, conversationCreated, userJoined, userLeft } from '../../domain/src/testing/conversation-fixtures';
import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { INBOX_TABLES, InboxProjection } from './inbox.projection';
import type { Projection } from './projection';
import { coalesce, type RowMutation, type TableDefinition } from './read-model-store.port';
import { applyInChunks, snapshot, TestLog } from './testing/projection-spec';
import { TIMELINE_TABLES, TimelineProjection } from './timeline.projection';

/** The in-memory store, counting what a projection asks of it. */
class RecordingStore extends InMemoryReadModelStore {
  reads = 0;
  readonly written: RowMutation[] = [];

  override async get(...args: Parameters<InMemoryReadModelStore['get']>) {
    this.reads++;
    return super.get(...args);
  }

  override async list(...args: Parameters<InMemoryReadModelStore['list']>) {
    this.reads++;
    return super.list(...args);
  }

  override async write(mutations: readonly RowMutation[]): Promise<void> {
    this.written.push(...mutations);
    return super.write(mutations);
  }
}

/** Two groups in one partition: joins, a leave, messages (one sent twice), read markers. */
function scenario(): TestLog {
  const log = new TestLog(0, 0);
  log.append(...groupWith(ALICE, BOB, CAROL));
  log.append(conversationCreated({ conversationId: OTHER_GROUP_ID, createdBy: BOB }), userJoined(BOB, undefined, OTHER_GROUP_ID), userJoined(ALICE, undefined, OTHER_GROUP_ID));
  const first = log.add(messageSent(ALICE, 'a1'));
  for (let i = 0; i < 20; i++) {
    log.append(messageSent([ALICE, BOB, CAROL][i % 3], `m${i}`), messageSent(BOB, `o${i}`, 'other', { conversationId: OTHER_GROUP_ID }));
    if (i === 7) log.append(first.event, readMarkerMoved(CAROL, first.position)); // a duplicate, a marker behind
    if (i === 12) log.add(userLeft(CAROL));
  }
  log.add(readMarkerMoved(BOB, log.events.at(-2)!.position));
  return log;
}

const PROJECTIONS: ReadonlyArray<[string, (store: InMemoryReadModelStore) => Projection, Readonly<Record<string, TableDefinition>>]> = [
  ['timeline', (store) => new TimelineProjection(store), TIMELINE_TABLES],
  ['inbox', (store) => new InboxProjection(store), INBOX_TABLES],
];

describe.each(PROJECTIONS)('%s, applied in chunks', (_name, create, tables) => {
  const setup = async () => {
    const store = new RecordingStore();
    const projection = create(store);
    await projection.createStorage();
    return { store, projection };
  };

  it('from the start of the log into empty storage, reads nothing: everything it needs it wrote itself', async () => {
    const log = scenario();
    const { store, projection } = await setup();
    await applyInChunks(projection, 0, log.events, 5, log.end);
    expect(store.reads).toBe(0);

    const reference = await setup();
    await applyInChunks(reference.projection, 0, log.events, 1, log.end);
    expect(await snapshot(store, tables)).toEqual(await snapshot(reference.store, tables));
  });

  it('resuming from a checkpoint reads what storage holds, and ends with the same rows', async () => {
    const log = scenario();
    const { store, projection } = await setup();
    await applyInChunks(projection, 0, log.events.slice(0, 30), 7, log.events[30].position.offset);
    store.reads = 0;
    await applyInChunks(create(store), 0, log.events.slice(30), 7, log.end);
    expect(store.reads).toBeGreaterThan(0);

    const reference = await setup();
    await applyInChunks(reference.projection, 0, log.events, 100, log.end);
    expect(await snapshot(store, tables)).toEqual(await snapshot(reference.store, tables));
  });

  it('writes nothing that a later write of the same chunk makes redundant, whatever the chunk size', async () => {
    const log = scenario();
    for (const size of [1, 4, 1000]) {
      const { store, projection } = await setup();
      const write = store.write.bind(store);
      const writes: RowMutation[][] = [];
      jest.spyOn(store, 'write').mockImplementation(async (mutations) => {
        writes.push([...mutations]);
        return write(mutations);
      });
      await applyInChunks(projection, 0, log.events, size, log.end);
      for (const mutations of writes) expect({ size, mutations: coalesce(mutations) }).toEqual({ size, mutations });
    }
  });
});
