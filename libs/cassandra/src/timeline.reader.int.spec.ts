import { messageIdFor } from '@parley/domain';
import { TIMELINE_TABLES, TimelineProjection } from '@parley/projections';
import { waitFor } from '@parley/testing';
import type { Client } from 'cassandra-driver';
import { ALICE, BOB, conversationCreated, GROUP_ID, groupWith, messageSent, NOW, OTHER_GROUP_ID, userJoined } from '../../domain/src/testing/conversation-fixtures';
import { applyInChunks, TestLog } from '../../projections/src/testing/projection-spec';
import { CassandraReadModelStore } from './cassandra-read-model-store';
import { SentMessageLookup } from './sent-message.lookup';
import { scratchKeyspace } from './testing/scratch-keyspace';
import { TimelineReader } from './timeline.reader';

describe('Older messages in the timeline: by id through the index of timeline_messages, and the number at a position (real Cassandra)', () => {
  const scratch = scratchKeyspace('timeline_by_id');
  const { keyspace } = scratch;
  let client: Client;

  beforeAll(() => {
    client = scratch.client();
  });

  const project = async (version: number, log: TestLog) => {
    const timeline = new TimelineProjection(new CassandraReadModelStore(client, keyspace, 'timeline', version), version);
    await timeline.createStorage();
    await applyInChunks(timeline, log.partition, log.events, 2, log.end);
    return new TimelineReader(client, keyspace, version);
  };

  it('finds numbered and unnumbered messages by id in their own conversation only, and writes no id row for numbered ones', async () => {
    const log = new TestLog();
    log.append(...groupWith(ALICE, BOB), conversationCreated({ conversationId: OTHER_GROUP_ID }), userJoined(BOB, NOW, OTHER_GROUP_ID));
    const legacy = log.add(messageSent(BOB, 'c0', 'before numbers'));
    const numbered = log.add(messageSent(BOB, 'c1', 'numbered', { seq: 2 }));
    const reader = await project(1, log);

    expect(await reader.byId(GROUP_ID, messageIdFor(GROUP_ID, BOB, 'c1'))).toMatchObject({ body: 'numbered', seq: 2n, offset: BigInt(numbered.position.offset) });
    expect(await reader.byId(GROUP_ID, messageIdFor(GROUP_ID, BOB, 'c0'))).toMatchObject({ body: 'before numbers', seq: 1n, offset: BigInt(legacy.position.offset) });
    expect(await reader.byId(OTHER_GROUP_ID, messageIdFor(GROUP_ID, BOB, 'c1'))).toBeNull();
    expect(await reader.byId(GROUP_ID, messageIdFor(GROUP_ID, BOB, 'never sent'))).toBeNull();
    const ids = await client.execute(`SELECT message_id FROM ${keyspace}.${TIMELINE_TABLES.messageIds.name}_v1`);
    expect(ids.rows.map((r) => r.get('message_id'))).toEqual([messageIdFor(GROUP_ID, BOB, 'c0')]);
  });

  it("numbers a position from the messages at or before it, once the serving timeline is past it (a read marker's number)", async () => {
    const log = new TestLog();
    log.append(...groupWith(ALICE, BOB));
    const [first, second] = [log.add(messageSent(BOB, 'c1', 'one', { seq: 1 })), log.add(messageSent(BOB, 'c2', 'two', { seq: 2 }))];
    log.add(messageSent(ALICE, 'c3', 'three', { seq: 3 }));
    await project(3, log);
    const lookup = new SentMessageLookup(client, keyspace, { get: async () => ({ timeline: 3, inbox: 1, presence: 1 }) });
    const deadline = () => Date.now() + 5_000;
    const before = (position: { partition: number; offset: string }) => ({ ...position, offset: String(BigInt(position.offset) - 1n) });

    expect(await lookup.seqAt(GROUP_ID, second.position, deadline())).toBe(2n);
    expect(await lookup.seqAt(GROUP_ID, before(second.position), deadline())).toBe(1n);
    expect(await lookup.seqAt(GROUP_ID, before(first.position), deadline())).toBe(0n);
    await expect(lookup.seqAt(GROUP_ID, { partition: 0, offset: log.end }, Date.now() + 100)).rejects.toThrow(/has not projected partition 0 past offset/);
  });

  it('indexes the rows a table already held when it was created without the index (an upgrade)', async () => {
    const log = new TestLog();
    log.append(...groupWith(ALICE, BOB));
    const sent = log.add(messageSent(BOB, 'c1', 'old row', { seq: 1 }));
    await project(2, log);
    await client.execute(`DROP INDEX ${keyspace}.${TIMELINE_TABLES.messages.name}_v2_message_id`);

    // createStorage again: the index is built, in the background, over the rows there.
    const reader = await project(2, log);
    const found = await waitFor('the index built over existing rows to find the message', async () => (await reader.byId(GROUP_ID, messageIdFor(GROUP_ID, BOB, 'c1'))) ?? undefined, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(found).toMatchObject({ body: 'old row', offset: BigInt(sent.position.offset) });
  });
});

