// Helpers for projection unit tests: a log that hands out offsets, chunked application, row
// snapshots for comparing two stores, and a store that crashes where a test tells it to.
// Kept out of the library's index so that production code never reaches it.
import type { ConversationEvent } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
import { InMemoryReadModelStore } from '../in-memory-read-model-store';
import type { Change, Projection } from '../projection';
import type { Row, RowMutation, TableDefinition } from '../read-model-store.port';

/** One partition of the log: events appended to it get consecutive offsets. */
export class TestLog {
  readonly events: RecordedEvent[] = [];
  private next: bigint;

  constructor(
    readonly partition = 0,
    firstOffset: number | bigint = 0,
  ) {
    this.next = BigInt(firstOffset);
  }

  /** Records the events at the next offsets, in order; returns them as recorded. */
  append(...events: ConversationEvent[]): RecordedEvent[] {
    return events.map((event) => {
      const offset = (this.next++).toString();
      const recorded: RecordedEvent = {
        event,
        metadata: {
          eventId: `e-${this.partition}-${offset}`,
          actorId: actorOf(event),
          occurredAt: '2025-03-01T10:00:00.000Z',
          causationId: `cmd-${offset}`,
          correlationId: `corr-${offset}`,
        },
        conversationId: event.data.conversationId,
        position: { partition: this.partition, offset },
        schemaVersion: 1,
      };
      this.events.push(recorded);
      return recorded;
    });
  }

  /** Records one event; returns it as recorded. */
  add(event: ConversationEvent): RecordedEvent {
    return this.append(event)[0];
  }

  /** The offset the next appended event gets: the checkpoint after reading everything. */
  get end(): string {
    return this.next.toString();
  }
}

function actorOf(event: ConversationEvent): string {
  switch (event.type) {
    case 'ConversationCreated':
      return event.data.createdBy;
    case 'MessageSent':
      return event.data.senderId;
    default:
      return event.data.userId;
  }
}

/** Splits events into chunks of `size` (the last may be shorter). */
export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Applies `events` chunk by chunk, as the runner does: each chunk checkpoints the offset where
 * the next begins, the last one `end`. Returns every change, in order.
 */
export async function applyInChunks(
  projection: Projection,
  partition: number,
  events: readonly RecordedEvent[],
  size: number,
  end: string,
): Promise<Change[]> {
  const changes: Change[] = [];
  const chunks = chunksOf(events, Math.max(1, size));
  for (let i = 0; i < chunks.length; i++) {
    const nextOffset = chunks[i + 1]?.[0].position.offset ?? end;
    changes.push(...(await projection.apply(partition, chunks[i], nextOffset)));
  }
  return changes;
}

const stable = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** Rows sorted by their content, so two stores can be compared whatever order rows were written in. */
export function sortedRows(rows: readonly Row[]): Row[] {
  return [...rows]
    .map((row) => Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as Row)
    .sort((a, b) => {
      const x = stable(a);
      const y = stable(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
}

/** Every visible row of the tables, plus the checkpoints: what must match between two runs. */
export async function snapshot(
  store: InMemoryReadModelStore,
  tables: Readonly<Record<string, TableDefinition>>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const def of Object.values(tables)) out[def.name] = sortedRows(store.rows(def.name));
  out.checkpoints = Object.fromEntries(await store.checkpoints());
  return out;
}

/** Which mutations of a crashing write land before the crash (by index, of `count`). */
export type Survivors = (index: number, count: number) => boolean;

/** Ways a write can be cut short: Cassandra runs a write's statements concurrently, so any subset may land. */
export const PARTIAL_WRITES: ReadonlyArray<readonly [string, Survivors]> = [
  ['none of them', () => false],
  ['the first one', (i) => i < 1],
  ['all but the last', (i, n) => i < n - 1],
  ['the last one', (i, n) => i === n - 1],
  ['every other one', (i) => i % 2 === 0],
  ['the others', (i) => i % 2 === 1],
];

/**
 * The in-memory store, with crashes on demand: in the middle of a data write (`crashWrite`:
 * the write call `after` calls from now lands only the `survivors` of its mutations, then
 * throws), and between a chunk's data writes and its commit (`failNextCommits`).
 */
export class CrashingStore extends InMemoryReadModelStore {
  failNextCommits = 0;
  crashWrite: { after: number; survivors: Survivors } | null = null;
  private committing = false;

  override async write(mutations: readonly RowMutation[]): Promise<void> {
    if (!this.committing && this.crashWrite !== null) {
      if (this.crashWrite.after > 0) {
        this.crashWrite = { ...this.crashWrite, after: this.crashWrite.after - 1 };
      } else {
        const { survivors } = this.crashWrite;
        this.crashWrite = null;
        await super.write(mutations.filter((_, i) => survivors(i, mutations.length)));
        throw Object.assign(new Error('simulated crash in the middle of a write'), { retriable: true });
      }
    }
    return super.write(mutations);
  }

  /** Commits that store their state (when not atomic) and crash before the checkpoint. */
  crashBeforeCheckpoints = 0;
  /** How many non-atomic commits there were. */
  splitCommits = 0;

  override async commit(state: readonly RowMutation[], partition: number, nextOffset: string, atomic = true): Promise<void> {
    if (this.failNextCommits > 0) {
      this.failNextCommits--;
      throw Object.assign(new Error('simulated crash before the commit'), { retriable: true });
    }
    this.committing = true;
    try {
      if (!atomic) {
        this.splitCommits++;
        if (this.crashBeforeCheckpoints > 0) {
          this.crashBeforeCheckpoints--;
          await super.write(state);
          throw Object.assign(new Error('simulated crash between the state and the checkpoint'), { retriable: true });
        }
      }
      await super.commit(state, partition, nextOffset, atomic);
    } finally {
      this.committing = false;
    }
  }
}
