import { TIMELINE_TABLES, timelineMessageRows, type RowMutation } from '@parley/projections';
import type { Client } from 'cassandra-driver';
import { CassandraReadModelStore } from './cassandra-read-model-store';
import type { ServingVersions } from './serving-versions';

export interface TimelineRow {
  readonly conversationId: string;
  readonly id: string;
  readonly clientMessageId: string;
  readonly senderId: string;
  readonly body: string;
  readonly sentAt: string;
  readonly offset: string;
  readonly seq: number;
}

/** Buckets whose row this process wrote (a bucket spans 100,000 offsets: its row rarely changes). */
const MAX_REMEMBERED_BUCKETS = 100_000;

/**
 * Writes messages into the serving version of the timeline ahead of the projector, exactly the
 * rows the projection writes for them (timelineMessageRows): the partition writer's live lane
 * (docs/adr/0009), so a message is readable before it is announced.
 */
export class TimelineLiveWriter {
  private store?: { readonly version: number; readonly store: CassandraReadModelStore };
  private readonly bucketsWritten = new Set<string>();

  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly versions: ServingVersions,
  ) {}

  /** Writes into the serving version, and returns it. */
  async write(messages: readonly TimelineRow[]): Promise<number> {
    const { timeline } = await this.versions.get();
    if (messages.length === 0) return timeline;
    if (this.store?.version !== timeline) {
      const store = new CassandraReadModelStore(this.client, this.keyspace, 'timeline', timeline).register(Object.values(TIMELINE_TABLES));
      this.store = { version: timeline, store };
      this.bucketsWritten.clear();
    }
    const rows: RowMutation[] = [];
    const newBuckets: string[] = [];
    for (const m of messages) {
      const [message, bucket] = timelineMessageRows(m.conversationId, m.offset, { ...m, messageId: m.id }, BigInt(m.seq));
      rows.push(message);
      const key = `${m.conversationId}\n${String(bucket.key.bucket)}`;
      if (!this.bucketsWritten.has(key)) {
        rows.push(bucket);
        newBuckets.push(key);
      }
    }
    await this.store.store.write(rows);
    if (this.bucketsWritten.size + newBuckets.length > MAX_REMEMBERED_BUCKETS) this.bucketsWritten.clear();
    for (const key of newBuckets) this.bucketsWritten.add(key);
    return timeline;
  }
}
