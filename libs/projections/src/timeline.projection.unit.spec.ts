import { messageIdFor } from '@parley/domain';
import {
  ALICE,
  ALICE_BOB_ID,
  BOB,
  CAROL,
  conversationCreated,
  DAVE,
  directBetween,
  GROUP_ID,
  groupWith,
  LATER,
  messageSent,
  NOW,
  OTHER_GROUP_ID,
  readMarkerMoved,
  userJoined,
  userLeft,
} from '../../domain/src/testing/conversation-fixtures';
import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { applyInChunks, TestLog } from './testing/projection-spec';
import { describeReplaySafety, describeStateAheadOfCheckpoint } from './testing/replay-safety';
import { TIMELINE_TABLES, TimelineProjection } from './timeline.projection';

const T = TIMELINE_TABLES;
const AT_1 = '2025-03-01T10:01:00.000Z';
const AT_2 = '2025-03-01T10:02:00.000Z';
const AT_3 = '2025-03-01T10:03:00.000Z';
const AT_4 = '2025-03-01T10:04:00.000Z';

describe('TimelineProjection', () => {
  let store: InMemoryReadModelStore;
  let timeline: TimelineProjection;
  let log: TestLog;

  beforeEach(async () => {
    store = new InMemoryReadModelStore();
    timeline = new TimelineProjection(store);
    await timeline.createStorage();
    log = new TestLog();
  });

  /** When: the log so far, applied in chunks of `size` (default: one chunk). */
  const whenApplied = (size = log.events.length) => applyInChunks(timeline, log.partition, log.events, size, log.end);
  const conversation = (conversationId = GROUP_ID) => store.get(T.conversations.name, { conversation_id: conversationId });
  const members = (conversationId = GROUP_ID) => store.list(T.members.name, { conversation_id: conversationId });
  const memberIds = async (conversationId = GROUP_ID) => (await members(conversationId)).map((r) => r.user_id);
  const messages = (bucket = 0n, conversationId = GROUP_ID) =>
    store.list(T.messages.name, { conversation_id: conversationId, bucket });
  const seqsAndBodies = async (bucket = 0n, conversationId = GROUP_ID) =>
    (await messages(bucket, conversationId)).map((r) => [r.seq, r.body]);

  describe('the conversation row', () => {
    it('records kind, title, creator, creation time, partition, and the last message number and offset', async () => {
      log = new TestLog(3, 40);
      log.append(conversationCreated({ title: 'Trip', memberIds: [BOB] }), userJoined(ALICE), userJoined(BOB));
      log.append(messageSent(BOB, 'c1', 'one'), messageSent(ALICE, 'c2', 'two'));
      await whenApplied();

      expect(await conversation()).toStrictEqual({
        conversation_id: GROUP_ID,
        kind: 'GROUP',
        title: 'Trip',
        created_by: ALICE,
        created_at: NOW,
        partition: 3,
        last_seq: 2n,
        last_offset: 44n,
      });
      expect(store.rows(T.conversations.name)).toHaveLength(1);
    });

    it('a conversation without messages has last_seq 0 and last_offset -1', async () => {
      log.append(...directBetween(ALICE, BOB));
      await whenApplied();

      expect(await conversation(ALICE_BOB_ID)).toStrictEqual({
        conversation_id: ALICE_BOB_ID,
        kind: 'DIRECT',
        title: null,
        created_by: ALICE,
        created_at: NOW,
        partition: 0,
        last_seq: 0n,
        last_offset: -1n,
      });
    });

    it('keeps the first ConversationCreated: a second one (a concurrent create) changes nothing', async () => {
      log.append(conversationCreated({ title: 'First' }), userJoined(ALICE));
      log.append(conversationCreated({ title: 'Second', createdBy: BOB, createdAt: LATER }));
      await whenApplied(1);

      expect(await conversation()).toMatchObject({ title: 'First', created_by: ALICE, created_at: NOW });
      expect(await memberIds()).toEqual([ALICE]);
    });

    it('ignores every event of a conversation before its ConversationCreated', async () => {
      log.append(userJoined(BOB), messageSent(BOB, 'early', 'too early'), userLeft(CAROL));
      log.append(conversationCreated(), userJoined(ALICE));
      await whenApplied();

      expect(await conversation()).toMatchObject({ last_seq: 0n, last_offset: -1n });
      expect(await memberIds()).toEqual([ALICE]);
      expect(store.rows(T.messages.name)).toEqual([]);
      expect(store.rows(T.buckets.name)).toEqual([]);
      expect(store.rows(T.messageIds.name)).toEqual([]);
    });

    it('dropStorage removes rows and checkpoint; the same instance then builds them again', async () => {
      log.append(...groupWith(ALICE, BOB), messageSent(BOB, 'c1'));
      await whenApplied();
      await timeline.dropStorage();
      expect(await timeline.checkpoints()).toEqual(new Map());

      await timeline.createStorage();
      expect(store.rows(T.messages.name)).toEqual([]);
      await whenApplied(2);
      expect(await seqsAndBodies()).toEqual([[1n, 'hello']]);
      expect(await conversation()).toMatchObject({ last_seq: 1n, last_offset: 3n });
      expect(await timeline.checkpoints()).toEqual(new Map([[0, '4']]));
    });

    it('records the checkpoint of every chunk', async () => {
      log.append(...groupWith(ALICE, BOB), messageSent(BOB, 'c1'));
      await applyInChunks(timeline, 0, log.events.slice(0, 2), 2, '2');
      expect(await timeline.checkpoints()).toEqual(new Map([[0, '2']]));

      await applyInChunks(timeline, 0, log.events.slice(2), 1, '9');
      expect(await timeline.checkpoints()).toEqual(new Map([[0, '9']]));
    });
  });

  describe('members', () => {
    it('lists the creator first, then memberIds in the order given', async () => {
      log.append(...groupWith(ALICE, CAROL, BOB));
      await whenApplied();

      expect(await members()).toStrictEqual([
        { conversation_id: GROUP_ID, join_offset: 1n, user_id: ALICE, joined_at: NOW },
        { conversation_id: GROUP_ID, join_offset: 2n, user_id: CAROL, joined_at: NOW },
        { conversation_id: GROUP_ID, join_offset: 3n, user_id: BOB, joined_at: NOW },
      ]);
      expect(await store.list(T.memberIndex.name, { conversation_id: GROUP_ID })).toStrictEqual([
        { conversation_id: GROUP_ID, user_id: ALICE, join_offset: 1n },
        { conversation_id: GROUP_ID, user_id: BOB, join_offset: 3n },
        { conversation_id: GROUP_ID, user_id: CAROL, join_offset: 2n },
      ]);
    });

    it.each([1, 100])(
      'puts later joiners after them, removes who leaves, and puts who rejoins at the end (chunks of %i)',
      async (size) => {
        log.append(...groupWith(ALICE, CAROL, BOB));
        log.append(userJoined(DAVE, AT_1), userLeft(CAROL, AT_2), userJoined(CAROL, AT_3));
        await whenApplied(size);

        expect(await members()).toStrictEqual([
          { conversation_id: GROUP_ID, join_offset: 1n, user_id: ALICE, joined_at: NOW },
          { conversation_id: GROUP_ID, join_offset: 3n, user_id: BOB, joined_at: NOW },
          { conversation_id: GROUP_ID, join_offset: 4n, user_id: DAVE, joined_at: AT_1 },
          { conversation_id: GROUP_ID, join_offset: 6n, user_id: CAROL, joined_at: AT_3 },
        ]);
        expect(await store.get(T.memberIndex.name, { conversation_id: GROUP_ID, user_id: CAROL })).toStrictEqual({
          conversation_id: GROUP_ID,
          user_id: CAROL,
          join_offset: 6n,
        });
      },
    );

    it('a leave removes the member from both tables', async () => {
      log.append(...groupWith(ALICE, BOB), userLeft(BOB));
      await whenApplied(1);

      expect(await memberIds()).toEqual([ALICE]);
      expect(await store.list(T.memberIndex.name, { conversation_id: GROUP_ID })).toStrictEqual([
        { conversation_id: GROUP_ID, user_id: ALICE, join_offset: 1n },
      ]);
    });

    it('a second join of a member keeps the first position; a leave of a non-member changes nothing', async () => {
      log.append(...groupWith(ALICE, BOB), userJoined(ALICE, LATER), userLeft(CAROL));
      await whenApplied();

      expect(await members()).toStrictEqual([
        { conversation_id: GROUP_ID, join_offset: 1n, user_id: ALICE, joined_at: NOW },
        { conversation_id: GROUP_ID, join_offset: 2n, user_id: BOB, joined_at: NOW },
      ]);
    });

    it('returns a members change per join and leave that changed something', async () => {
      log.append(...groupWith(ALICE, BOB), userJoined(BOB), userLeft(BOB), userLeft(BOB));
      const changes = await whenApplied();

      expect(changes).toEqual([
        { kind: 'members', conversationId: GROUP_ID, userIds: [ALICE] },
        { kind: 'members', conversationId: GROUP_ID, userIds: [BOB] },
        { kind: 'members', conversationId: GROUP_ID, userIds: [BOB] },
      ]);
    });
  });

  describe('messages', () => {
    it.each([1, 2, 100])('numbers messages 1..n in log order (chunks of %i)', async (size) => {
      log.append(...groupWith(ALICE, BOB));
      log.append(
        messageSent(BOB, 'c1', 'one', { sentAt: AT_1 }),
        messageSent(ALICE, 'c1', 'two', { sentAt: AT_2 }),
        userJoined(CAROL),
        messageSent(CAROL, 'c1', 'three', { sentAt: AT_3 }),
      );
      await whenApplied(size);

      expect(await messages()).toStrictEqual([
        {
          conversation_id: GROUP_ID, bucket: 0n, offset: 3n, seq: 1n, message_id: messageIdFor(GROUP_ID, BOB, 'c1'),
          client_message_id: 'c1', sender_id: BOB, body: 'one', sent_at: AT_1,
        },
        {
          conversation_id: GROUP_ID, bucket: 0n, offset: 4n, seq: 2n, message_id: messageIdFor(GROUP_ID, ALICE, 'c1'),
          client_message_id: 'c1', sender_id: ALICE, body: 'two', sent_at: AT_2,
        },
        {
          conversation_id: GROUP_ID, bucket: 0n, offset: 6n, seq: 3n, message_id: messageIdFor(GROUP_ID, CAROL, 'c1'),
          client_message_id: 'c1', sender_id: CAROL, body: 'three', sent_at: AT_3,
        },
      ]);
      expect(await conversation()).toMatchObject({ last_seq: 3n, last_offset: 6n });
      expect(store.rows(T.buckets.name)).toStrictEqual([{ conversation_id: GROUP_ID, bucket: 0n }]);
    });

    it('numbers the messages of each conversation on their own', async () => {
      log.append(...groupWith(ALICE, BOB), conversationCreated({ conversationId: OTHER_GROUP_ID }));
      log.append(userJoined(ALICE, NOW, OTHER_GROUP_ID));
      log.append(
        messageSent(BOB, 'c1', 'g1'),
        messageSent(ALICE, 'c1', 'o1', { conversationId: OTHER_GROUP_ID }),
        messageSent(BOB, 'c2', 'g2'),
        messageSent(ALICE, 'c2', 'o2', { conversationId: OTHER_GROUP_ID }),
      );
      await whenApplied(3);

      expect(await seqsAndBodies()).toEqual([[1n, 'g1'], [2n, 'g2']]);
      expect(await seqsAndBodies(0n, OTHER_GROUP_ID)).toEqual([[1n, 'o1'], [2n, 'o2']]);
      expect(await conversation()).toMatchObject({ last_seq: 2n, last_offset: 7n });
      expect(await conversation(OTHER_GROUP_ID)).toMatchObject({ last_seq: 2n, last_offset: 8n });
    });

    it("keeps the writer's numbers where events carry them, counting on from there where they do not", async () => {
      log.append(...groupWith(ALICE, BOB));
      // The writer's number wins even where counting would say otherwise (e.g. duplicates it never appended).
      log.append(messageSent(BOB, 'c1', 'one'), messageSent(BOB, 'c2', 'two', { seq: 5 }), messageSent(BOB, 'c3', 'three'));
      await whenApplied(2);

      expect(await seqsAndBodies()).toEqual([[1n, 'one'], [5n, 'two'], [6n, 'three']]);
      expect(await conversation()).toMatchObject({ last_seq: 6n });
    });

    it('a numbered message writes its row only: no id row, no conversation row (nothing continues from them)', async () => {
      log.append(...groupWith(ALICE, BOB));
      await whenApplied();
      const written = jest.spyOn(store, 'write');
      const committed = jest.spyOn(store, 'commit');
      log.append(messageSent(BOB, 'c1', 'one', { seq: 1 }), messageSent(ALICE, 'c2', 'two', { seq: 2 }));
      await applyInChunks(timeline, log.partition, log.events.slice(-2), 1, log.end);

      const tables = written.mock.calls.flatMap(([mutations]) => mutations.map((m) => m.table));
      expect(tables).toEqual([T.messages.name, T.buckets.name, T.messages.name]); // the bucket's row once
      expect(committed.mock.calls.map(([state]) => state)).toEqual([[], []]); // checkpoints only
      expect(store.rows(T.messageIds.name)).toEqual([]);
      expect(await seqsAndBodies()).toEqual([[1n, 'one'], [2n, 'two']]);
    });

    it.each([1, 100])('splits messages into buckets of 100,000 offsets, newest bucket first (chunks of %i)', async (size) => {
      log = new TestLog(0, 99_995);
      log.append(...groupWith(ALICE, BOB)); // 99995..99997
      log.append(messageSent(BOB, 'c1', 'one'), messageSent(BOB, 'c2', 'two')); // 99998, 99999
      log.append(messageSent(ALICE, 'c3', 'three')); // 100000
      await whenApplied(size);

      expect(await store.list(T.buckets.name, { conversation_id: GROUP_ID })).toStrictEqual([
        { conversation_id: GROUP_ID, bucket: 1n },
        { conversation_id: GROUP_ID, bucket: 0n },
      ]);
      expect((await messages(0n)).map((r) => [r.offset, r.seq, r.body])).toEqual([
        [99_998n, 1n, 'one'],
        [99_999n, 2n, 'two'],
      ]);
      expect((await messages(1n)).map((r) => [r.offset, r.seq, r.body])).toEqual([[100_000n, 3n, 'three']]);
      expect(await conversation()).toMatchObject({ last_seq: 3n, last_offset: 100_000n });
    });

    it.each([1, 100])('writes a bucket\'s row with the first message in it, not again with later ones (chunks of %i)', async (size) => {
      log = new TestLog(0, 99_995);
      log.append(...groupWith(ALICE, BOB)); // 99995..99997
      log.append(messageSent(BOB, 'c1', 'one'), messageSent(BOB, 'c2', 'two')); // 99998, 99999: bucket 0
      log.append(messageSent(ALICE, 'c3', 'three'), messageSent(ALICE, 'c4', 'four')); // 100000, 100001: bucket 1
      const write = jest.spyOn(store, 'write');
      await whenApplied(size);

      const bucketRows = write.mock.calls.flatMap(([mutations]) => mutations.filter((m) => m.table === T.buckets.name).map((m) => m.key.bucket));
      expect(bucketRows).toStrictEqual([0n, 1n]);
    });

    it.each([
      ['into this version: it writes only the others', 1, ['one', 'four']],
      ['into another version: it writes them all', 2, ['one', 'two', 'three', 'four']],
    ])('with rows its writer wrote ahead %s, numbering every message all the same', async (_what, version, bodies) => {
      // Offsets 3..6: one, two, three, four; the writer's live lane wrote 4 and 5 (two, three).
      timeline = new TimelineProjection(store, 1, { written: async (partition) => (partition === log.partition ? { version, from: 4n, to: 6n } : null) });
      log.append(...groupWith(ALICE, BOB));
      log.append(messageSent(BOB, 'c1', 'one'), messageSent(BOB, 'c2', 'two'), messageSent(ALICE, 'c3', 'three'), messageSent(ALICE, 'c4', 'four'));
      await whenApplied();

      expect((await messages()).map((r) => r.body)).toEqual(bodies);
      expect(await conversation()).toMatchObject({ last_seq: 4n, last_offset: 6n });
    });

    it.each([1, 2, 100])(
      'a duplicate MessageSent (same message id, later offset) appears once and takes no number (chunks of %i)',
      async (size) => {
        log.append(...groupWith(ALICE, BOB));
        log.append(messageSent(BOB, 'c1', 'original', { sentAt: AT_1 }), messageSent(ALICE, 'c1', 'reply', { sentAt: AT_2 }));
        log.append(messageSent(BOB, 'c1', 'retry', { sentAt: AT_3 })); // the same message id as offset 3
        log.append(messageSent(BOB, 'c2', 'next', { sentAt: AT_4 }));
        const changes = await whenApplied(size);

        expect((await messages()).map((r) => [r.offset, r.seq, r.body])).toEqual([
          [3n, 1n, 'original'],
          [4n, 2n, 'reply'],
          [6n, 3n, 'next'],
        ]);
        expect(await conversation()).toMatchObject({ last_seq: 3n, last_offset: 6n });
        expect(await store.get(T.messageIds.name, { conversation_id: GROUP_ID, message_id: messageIdFor(GROUP_ID, BOB, 'c1') })).toStrictEqual({
          conversation_id: GROUP_ID,
          message_id: messageIdFor(GROUP_ID, BOB, 'c1'),
          offset: 3n,
        });
        expect(changes.filter((c) => c.kind === 'message').map((c) => c.kind === 'message' && c.message.body)).toEqual([
          'original',
          'reply',
          'next',
        ]);
      },
    );

    it('returns a message change with the message and its position', async () => {
      log = new TestLog(2, 10);
      log.append(...groupWith(ALICE, BOB), messageSent(BOB, 'c1', 'hello', { sentAt: AT_1 }));
      const changes = await whenApplied();

      expect(changes.at(-1)).toStrictEqual({
        kind: 'message',
        conversationId: GROUP_ID,
        message: {
          id: messageIdFor(GROUP_ID, BOB, 'c1'),
          clientMessageId: 'c1',
          senderId: BOB,
          body: 'hello',
          sentAt: AT_1,
          partition: 2,
          offset: '13',
          seq: 1,
        },
      });
    });

    it('ignores read markers', async () => {
      log.append(...groupWith(ALICE, BOB));
      const sent = log.add(messageSent(BOB, 'c1'));
      log.append(readMarkerMoved(ALICE, sent.position));
      await whenApplied();

      expect(await seqsAndBodies()).toEqual([[1n, 'hello']]);
      expect(await timeline.checkpoints()).toEqual(new Map([[0, '5']]));
    });
  });
});

describeReplaySafety('TimelineProjection', {
  tables: TIMELINE_TABLES,
  create: (store) => new TimelineProjection(store),
  scenario: timelineScenario,
});

/** Messages numbered by their writer (ADR 0009), across a bucket boundary, with joins and leaves. */
function numberedTimelineScenario(): TestLog {
  const log = new TestLog(2, 99_990);
  log.append(...groupWith(ALICE, BOB, CAROL), conversationCreated({ conversationId: OTHER_GROUP_ID }), userJoined(BOB, NOW, OTHER_GROUP_ID));
  log.append(messageSent(BOB, 'm1', 'one', { seq: 1, sentAt: AT_1 }), messageSent(CAROL, 'm2', 'two', { seq: 2, sentAt: AT_1 }));
  log.append(messageSent(BOB, 'o1', 'other one', { conversationId: OTHER_GROUP_ID, seq: 1, sentAt: AT_1 }));
  log.append(userLeft(CAROL, AT_2), userJoined(DAVE, AT_2));
  log.append(messageSent(ALICE, 'm3', 'three', { seq: 3, sentAt: AT_3 }), messageSent(DAVE, 'm4', 'four', { seq: 4, sentAt: AT_3 }));
  log.append(messageSent(BOB, 'o2', 'other two', { conversationId: OTHER_GROUP_ID, seq: 2, sentAt: AT_4 }));
  return log;
}

describeStateAheadOfCheckpoint('TimelineProjection', {
  tables: TIMELINE_TABLES,
  create: (store) => new TimelineProjection(store),
  scenario: numberedTimelineScenario,
});

/** Two conversations in one partition, across a bucket boundary, with every kind of event. */
function timelineScenario(): TestLog {
  const log = new TestLog(0, 99_990);
  log.append(messageSent(DAVE, 'early', 'before the conversation exists'));
  log.append(...groupWith(ALICE, CAROL, BOB));
  log.append(conversationCreated({ conversationId: OTHER_GROUP_ID, createdBy: BOB, title: 'Other' }));
  log.append(userJoined(BOB, NOW, OTHER_GROUP_ID), userJoined(ALICE, NOW, OTHER_GROUP_ID));
  const m1 = log.add(messageSent(BOB, 'm1', 'one', { sentAt: AT_1 }));
  log.append(messageSent(ALICE, 'm2', 'two', { sentAt: AT_1 }));
  log.append(messageSent(BOB, 'o1', 'other one', { conversationId: OTHER_GROUP_ID, sentAt: AT_1 }));
  log.append(readMarkerMoved(CAROL, m1.position), userJoined(DAVE, AT_2), userLeft(CAROL, AT_2));
  log.append(messageSent(BOB, 'm1', 'one again', { sentAt: AT_2 })); // a duplicate of m1
  log.append(messageSent(BOB, 'm3', 'three', { sentAt: AT_2 })); // 100003: bucket 1
  log.append(userJoined(CAROL, AT_3), userLeft(BOB, AT_3), userJoined(BOB, AT_3), userLeft(DAVE, AT_3));
  log.append(messageSent(CAROL, 'm4', 'four', { sentAt: AT_4 }));
  log.append(messageSent(ALICE, 'o2', 'other two', { conversationId: OTHER_GROUP_ID, sentAt: AT_4 }));
  log.append(userLeft(ALICE, AT_4, OTHER_GROUP_ID), messageSent(BOB, 'm3', 'three again', { sentAt: AT_4 }));
  return log;
}
