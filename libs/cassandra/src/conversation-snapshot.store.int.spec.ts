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
});
