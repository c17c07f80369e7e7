import type { ConversationSnapshot } from '@parley/domain';
import type { Client } from 'cassandra-driver';
import { CassandraConversationSnapshots } from './conversation-snapshot.store';
import { scratchKeyspace } from './testing/scratch-keyspace';

const snapshot = (messageCount: number): ConversationSnapshot => ({
  conversationId: 'g_1',
  kind: 'GROUP',
  title: null,
  createdBy: 'alice',
  createdAt: '2026-12-07T10:00:00.000Z',
  members: [{ userId: 'alice', joinedAt: '2026-12-07T10:00:00.000Z', readMarker: { partition: 3, offset: '12' } }],
  messageCount,
  lastMessagePosition: messageCount > 0 ? { partition: 3, offset: '12' } : null,
});

describe('conversation snapshots in Cassandra (real node)', () => {
  const scratch = scratchKeyspace('snap');
  let client: Client;
  let store: CassandraConversationSnapshots;

  beforeAll(() => {
    client = scratch.client();
    store = new CassandraConversationSnapshots(client, scratch.keyspace, 'events-a', scratch.config.replicationFactor);
  });

  it('finds nothing for a conversation never saved', async () => {
    expect(await store.load('g_never')).toBeNull();
  });

  it('keeps the snapshot of the later offset, whichever is written last', async () => {
    await store.save('g_1', { snapshot: snapshot(2), lastOffset: 12n });
    await store.save('g_1', { snapshot: snapshot(1), lastOffset: 7n }); // a writer that lost the partition, late
    expect(await store.load('g_1')).toEqual({ snapshot: snapshot(2), lastOffset: 12n });
    await store.save('g_1', { snapshot: snapshot(3), lastOffset: 20n });
    expect(await store.load('g_1')).toEqual({ snapshot: snapshot(3), lastOffset: 20n });
  });

  it('keeps the snapshots of each events topic apart', async () => {
    const other = new CassandraConversationSnapshots(client, scratch.keyspace, 'events-b', scratch.config.replicationFactor);
    await other.save('g_2', { snapshot: snapshot(0), lastOffset: 1n });
    expect(await store.load('g_2')).toBeNull();
    expect(await other.load('g_2')).toEqual({ snapshot: snapshot(0), lastOffset: 1n });
  });

  it('keeps the later checkpoint of a partition with its filters, whichever is written last', async () => {
    expect(await store.loadCheckpoint(0)).toBeNull();
    const bits = (byte: number) => new Uint8Array(16).fill(byte);
    await store.saveCheckpoint(0, { through: 100n, seen: [{ index: 0, ids: 10, bits: bits(1) }] });
    await store.saveCheckpoint(0, { through: 200n, seen: [{ index: 0, ids: 12, bits: bits(2) }, { index: 1, ids: 1, bits: bits(3) }] });
    await store.saveCheckpoint(0, { through: 150n, seen: [{ index: 0, ids: 11, bits: bits(9) }] }); // late, from a writer that lost the partition
    const checkpoint = await store.loadCheckpoint(0);
    expect(checkpoint?.through).toBe(200n);
    expect(checkpoint?.seen.map(({ index, ids, bits: b }) => [index, ids, [...b]])).toEqual([
      [0, 12, [...bits(2)]],
      [1, 1, [...bits(3)]],
    ]);
    expect(await store.loadCheckpoint(1)).toBeNull();
  });
});

