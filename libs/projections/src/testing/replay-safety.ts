// The replay-safety contract of a projection (Projection.apply): applying the same events
// again, in other chunks, or resuming after a crash at any point gives the same rows as one
// clean run. Run by each projection's unit spec with a scenario of its own.
import type { RecordedEvent } from '@parley/event-log';
import type { Projection } from '../projection';
import type { TableDefinition } from '../read-model-store.port';
import { applyInChunks, chunksOf, CrashingStore, PARTIAL_WRITES, snapshot, type TestLog } from './projection-spec';

export interface ReplaySafetyFixture {
  readonly tables: Readonly<Record<string, TableDefinition>>;
  create(store: CrashingStore): Projection;
  /** A log rich enough to exercise every rule of the projection, in one partition. */
  scenario(): TestLog;
}

export function describeReplaySafety(name: string, fixture: ReplaySafetyFixture): void {
  describe(`${name}: replay safety`, () => {
    let log: TestLog;
    let partition: number;
    /** The rows of one clean run: everything applied in one chunk to an empty store. */
    let clean: Record<string, unknown>;

    const setup = async () => {
      const store = new CrashingStore();
      const projection = fixture.create(store);
      await projection.createStorage();
      return { store, projection };
    };

    const rowsAfter = async (store: CrashingStore) => snapshot(store, fixture.tables);
    const from = (offset: string | undefined): RecordedEvent[] =>
      log.events.filter((e) => offset === undefined || BigInt(e.position.offset) >= BigInt(offset));

    beforeEach(async () => {
      log = fixture.scenario();
      partition = log.partition;
      const { store, projection } = await setup();
      await projection.apply(partition, log.events, log.end);
      clean = await rowsAfter(store);
    });

    it('the clean run checkpoints the end of the log', () => {
      expect(clean.checkpoints).toEqual({ [partition]: log.end });
    });

    it.each([1, 2, 3, 5, 8])('applying the events in chunks of %i gives the rows of one chunk', async (size) => {
      const { store, projection } = await setup();
      await applyInChunks(projection, partition, log.events, size, log.end);
      expect(await rowsAfter(store)).toEqual(clean);
    });

    it.each([1, 4, 1000])('applying every event again with the same instance (chunks of %i) changes nothing', async (size) => {
      const { store, projection } = await setup();
      await applyInChunks(projection, partition, log.events, 3, log.end);
      await applyInChunks(projection, partition, log.events, size, log.end);
      expect(await rowsAfter(store)).toEqual(clean);
    });

    it.each([1, 4, 1000])('a fresh instance applying everything again from the start (chunks of %i) changes nothing', async (size) => {
      const { store, projection } = await setup();
      await applyInChunks(projection, partition, log.events, 1000, log.end);
      await applyInChunks(fixture.create(store), partition, log.events, size, log.end);
      expect(await rowsAfter(store)).toEqual(clean);
    });

    it('a fresh instance re-applying the first half, then the rest, changes nothing', async () => {
      const { store, projection } = await setup();
      await applyInChunks(projection, partition, log.events, 2, log.end);
      const half = log.events.slice(0, Math.floor(log.events.length / 2));
      const restart = fixture.create(store);
      await applyInChunks(restart, partition, half, 3, log.events[half.length].position.offset);
      await applyInChunks(restart, partition, log.events.slice(half.length), 3, log.end);
      expect(await rowsAfter(store)).toEqual(clean);
    });

    it('a fresh instance resuming from the stored checkpoint gives the rows of one clean run', async () => {
      const { store, projection } = await setup();
      const half = log.events.slice(0, Math.floor(log.events.length / 2));
      await applyInChunks(projection, partition, half, 2, log.events[half.length].position.offset);
      const checkpoint = (await store.checkpoints()).get(partition);
      expect(checkpoint).toBe(log.events[half.length].position.offset);
      await applyInChunks(fixture.create(store), partition, from(checkpoint), 3, log.end);
      expect(await rowsAfter(store)).toEqual(clean);
    });

    describe('a crash in the middle of a chunk', () => {
      const size = 3;

      it('a failed write, then reset() and the same chunk again, gives the rows of a clean run (at every chunk)', async () => {
        const chunks = chunksOf(log.events, size);
        for (let crashAt = 0; crashAt < chunks.length; crashAt++) {
          const { store, projection } = await setup();
          for (let i = 0; i < chunks.length; i++) {
            const nextOffset = chunks[i + 1]?.[0].position.offset ?? log.end;
            if (i === crashAt) {
              store.failNextWrites = 1;
              await expect(projection.apply(partition, chunks[i], nextOffset)).rejects.toThrow('simulated storage failure');
              projection.reset();
            }
            await projection.apply(partition, chunks[i], nextOffset);
          }
          expect({ crashAt, rows: await rowsAfter(store) }).toEqual({ crashAt, rows: clean });
        }
      });

      describe.each(PARTIAL_WRITES)('a write that landed only %s of its mutations', (_name, survivors) => {
        it.each([0, 1])(
          'then reset() and the same chunk again gives the rows of a clean run (the chunk\'s write #%i, at every chunk)',
          async (writeIndex) => {
            const chunks = chunksOf(log.events, size);
            for (let crashAt = 0; crashAt < chunks.length; crashAt++) {
              const { store, projection } = await setup();
              let crashes = 0;
              for (let i = 0; i < chunks.length; i++) {
                const nextOffset = chunks[i + 1]?.[0].position.offset ?? log.end;
                if (i === crashAt) store.crashWrite = { after: writeIndex, survivors };
                try {
                  await projection.apply(partition, chunks[i], nextOffset);
                } catch (err) {
                  expect((err as Error).message).toBe('simulated crash in the middle of a write');
                  crashes++;
                  projection.reset();
                  await projection.apply(partition, chunks[i], nextOffset);
                }
              }
              // A chunk writes at least once: the crash happened (in this chunk or, if it wrote once only, the next).
              expect({ crashAt, crashes: crashes + (store.crashWrite ? 1 : 0) }).toEqual({ crashAt, crashes: 1 });
              expect({ crashAt, rows: await rowsAfter(store) }).toEqual({ crashAt, rows: clean });
            }
          },
        );
      });
    });

    describe('a crash after the data writes, before the commit (storage ahead of the checkpoint)', () => {
      const size = 3;

      it('reset() and the same chunk again gives the rows of a clean run (at every chunk)', async () => {
        const chunks = chunksOf(log.events, size);
        for (let crashAt = 0; crashAt < chunks.length; crashAt++) {
          const { store, projection } = await setup();
          for (let i = 0; i < chunks.length; i++) {
            const nextOffset = chunks[i + 1]?.[0].position.offset ?? log.end;
            if (i === crashAt) {
              store.failNextCommits = 1;
              await expect(projection.apply(partition, chunks[i], nextOffset)).rejects.toThrow('before the commit');
              projection.reset();
            }
            await projection.apply(partition, chunks[i], nextOffset);
          }
          expect({ crashAt, rows: await rowsAfter(store) }).toEqual({ crashAt, rows: clean });
        }
      });

      it.each([1, 2, 1000])(
        'a restarted instance resuming from the older checkpoint (chunks of %i) gives the rows of a clean run (at every chunk)',
        async (resumeSize) => {
          const chunks = chunksOf(log.events, size);
          for (let crashAt = 0; crashAt < chunks.length; crashAt++) {
            const { store, projection } = await setup();
            for (let i = 0; i < crashAt; i++) await projection.apply(partition, chunks[i], chunks[i + 1][0].position.offset);
            store.failNextCommits = 1;
            const nextOffset = chunks[crashAt + 1]?.[0].position.offset ?? log.end;
            await expect(projection.apply(partition, chunks[crashAt], nextOffset)).rejects.toThrow('before the commit');

            const checkpoint = (await store.checkpoints()).get(partition);
            expect(checkpoint).toBe(crashAt === 0 ? undefined : chunks[crashAt][0].position.offset);
            await applyInChunks(fixture.create(store), partition, from(checkpoint), resumeSize, log.end);
            expect({ crashAt, rows: await rowsAfter(store) }).toEqual({ crashAt, rows: clean });
          }
        },
      );
    });
  });
}

/**
 * A chunk whose state counts on from nothing (only numbered messages) commits its state before
 * its checkpoint, without a batch log (ReadModelStore.commit): a crash in between leaves the
 * state ahead of the checkpoint. A restarted instance replays from the checkpoint onto it and
 * must end with the rows of a clean run. `fixture.scenario` must be such a log.
 */
export function describeStateAheadOfCheckpoint(name: string, fixture: ReplaySafetyFixture): void {
  describe(`${name}: a crash between a chunk's state and its checkpoint (state ahead)`, () => {
    it.each([1, 2, 3])('a restarted instance resuming from the older checkpoint gives the rows of a clean run (chunks of %i, at every chunk)', async (size) => {
      const log = fixture.scenario();
      const { partition } = log;
      const cleanStore = new CrashingStore();
      const cleanRun = fixture.create(cleanStore);
      await cleanRun.createStorage();
      await cleanRun.apply(partition, log.events, log.end);
      const clean = await snapshot(cleanStore, fixture.tables);

      const chunks = chunksOf(log.events, size);
      let crashes = 0;
      for (let crashAt = 0; crashAt < chunks.length; crashAt++) {
        const store = new CrashingStore();
        const projection = fixture.create(store);
        await projection.createStorage();
        for (let i = 0; i < crashAt; i++) await projection.apply(partition, chunks[i], chunks[i + 1][0].position.offset);
        store.crashBeforeCheckpoints = 1;
        const nextOffset = chunks[crashAt + 1]?.[0].position.offset ?? log.end;
        await projection.apply(partition, chunks[crashAt], nextOffset).then(
          () => undefined,
          (err: unknown) => {
            expect((err as Error).message).toBe('simulated crash between the state and the checkpoint');
            crashes++;
          },
        );
        store.crashBeforeCheckpoints = 0;

        const checkpoint = (await store.checkpoints()).get(partition);
        const resumed = log.events.filter((e) => checkpoint === undefined || BigInt(e.position.offset) >= BigInt(checkpoint));
        await applyInChunks(fixture.create(store), partition, resumed, size, log.end);
        expect({ crashAt, rows: await snapshot(store, fixture.tables) }).toEqual({ crashAt, rows: clean });
      }
      expect(crashes).toBeGreaterThan(0); // the log has chunks committed without the batch log
    });
  });
}
