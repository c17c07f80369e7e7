import { messageIdFor } from '@parley/domain';
import type { RecordedEvent } from '@parley/event-log';
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
  messageSent,
  NOW,
  OTHER_GROUP_ID,
  readMarkerMoved,
  userJoined,
  userLeft,
} from '../../domain/src/testing/conversation-fixtures';
import { INBOX_TABLES, InboxProjection } from './inbox.projection';
import { InMemoryReadModelStore } from './in-memory-read-model-store';
import { writeTimeOf, type Row, type RowMutation } from './read-model-store.port';
import { applyInChunks, snapshot, TestLog } from './testing/projection-spec';
import { describeReplaySafety, describeStateAheadOfCheckpoint } from './testing/replay-safety';

const I = INBOX_TABLES;
const AT_1 = '2025-03-01T10:01:00.000Z';
const AT_2 = '2025-03-01T10:02:00.000Z';
const AT_3 = '2025-03-01T10:03:00.000Z';
const AT_4 = '2025-03-01T10:04:00.000Z';
const AT_5 = '2025-03-01T10:05:00.000Z';
const ERIN = 'erin';

const idOf = (senderId: string, clientMessageId: string, conversationId = GROUP_ID) =>
  messageIdFor(conversationId, senderId, clientMessageId);

/** A member's inbox entry as readers see it: their stored entry (read marker) merged with the conversation's head. */
async function entryAsRead(store: InMemoryReadModelStore, userId: string, conversationId: string): Promise<Row | undefined> {
  const own = await store.get(I.entries.name, { user_id: userId, conversation_id: conversationId });
  const head = await store.get(I.conversations.name, { conversation_id: conversationId });
  return own && head && { ...head, ...own };
}

describe('InboxProjection', () => {
  let store: InMemoryReadModelStore;
  let inbox: InboxProjection;
  let log: TestLog;

  beforeEach(async () => {
    store = new InMemoryReadModelStore();
    inbox = new InboxProjection(store);
    await inbox.createStorage();
    log = new TestLog();
  });

  /** When: the log so far, applied in chunks of `size` (default: one chunk). */
  const whenApplied = (size = log.events.length) => applyInChunks(inbox, log.partition, log.events, size, log.end);
  const entry = (userId: string, conversationId = GROUP_ID) => entryAsRead(store, userId, conversationId);
  const unread = async (userId: string, conversationId = GROUP_ID): Promise<number | undefined> => {
    const e = await entry(userId, conversationId);
    return e && Number(BigInt(e.last_seq as bigint) - BigInt(e.read_seq as bigint));
  };
  const unreadOf = async (...userIds: string[]) =>
    Object.fromEntries(await Promise.all(userIds.map(async (u) => [u, await unread(u)] as const)));

  /** A user's inbox as readers order it (the heads of their conversations, most recently active first), with its positions. */
  const inboxOf = async (userId: string) => {
    const positions = await Promise.all(
      (await store.list(I.entries.name, { user_id: userId })).map(async ({ conversation_id }) => {
        const head = (await store.get(I.conversations.name, { conversation_id }))!;
        return { user_id: userId, activity_at: head.activity_at, activity_offset: head.activity_offset, conversation_id };
      }),
    );
    const key = (p: Row) => [p.activity_at as string, BigInt(p.activity_offset as bigint), p.conversation_id as string] as const;
    return positions.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      if (x[0] !== y[0]) return x[0] < y[0] ? 1 : -1;
      if (x[1] !== y[1]) return x[1] < y[1] ? 1 : -1;
      return x[2] < y[2] ? -1 : 1;
    });
  };
  const liveOrder = async (userId: string): Promise<string[]> => (await inboxOf(userId)).map((p) => String(p.conversation_id));

  describe('entries', () => {
    it('gives every member an entry with the last message; unread = last_seq - read_seq', async () => {
      log.append(...groupWith(ALICE, BOB, CAROL)); // 0..3
      log.append(messageSent(BOB, 'c1', 'hi', { sentAt: AT_1 })); // 4
      await whenApplied();

      const others = { conversation_id: GROUP_ID, last_seq: 1n, last_message_id: idOf(BOB, 'c1'), last_offset: 4n, activity_at: AT_1, activity_offset: 4n };
      expect(await entry(ALICE)).toStrictEqual({ user_id: ALICE, ...others, read_seq: 0n, read_offset: -1n });
      expect(await entry(BOB)).toStrictEqual({ user_id: BOB, ...others, read_seq: 1n, read_offset: 4n });
      expect(await entry(CAROL)).toStrictEqual({ user_id: CAROL, ...others, read_seq: 0n, read_offset: -1n });
      expect(await unreadOf(ALICE, BOB, CAROL)).toEqual({ [ALICE]: 1, [BOB]: 0, [CAROL]: 1 });
      expect(await store.get(I.conversations.name, { conversation_id: GROUP_ID })).toStrictEqual({
        conversation_id: GROUP_ID,
        last_seq: 1n,
        last_message_id: idOf(BOB, 'c1'),
        last_offset: 4n,
        activity_at: AT_1,
        activity_offset: 4n,
      });
      expect(store.rows(I.entries.name)).toHaveLength(3);
    });

    it("numbers messages as their writer did (what subscribers see), counting on where an event has no number", async () => {
      log.append(...groupWith(ALICE, BOB)); // 0..2
      // The writer's number wins even where counting would say otherwise (e.g. duplicates it never appended).
      log.append(messageSent(BOB, 'c1'), messageSent(BOB, 'c2', 'hi', { seq: 5 }), messageSent(BOB, 'c3')); // 3..5
      await whenApplied(2);

      expect(await entry(ALICE)).toMatchObject({ last_seq: 6n, read_seq: 0n });
      expect(await unreadOf(ALICE, BOB)).toEqual({ [ALICE]: 6, [BOB]: 0 });
    });

    it('before any message, entries have no last message and nothing unread; activity is the last join', async () => {
      log.append(conversationCreated({ memberIds: [BOB] }), userJoined(ALICE, NOW), userJoined(BOB, AT_1));
      await whenApplied(1);

      const empty = {
        conversation_id: GROUP_ID, last_seq: 0n, last_message_id: null, last_offset: null,
        read_seq: 0n, read_offset: -1n, activity_at: AT_1, activity_offset: 2n,
      };
      expect(await entry(ALICE)).toStrictEqual({ user_id: ALICE, ...empty });
      expect(await entry(BOB)).toStrictEqual({ user_id: BOB, ...empty });
      expect(await store.list(I.members.name, { conversation_id: GROUP_ID })).toStrictEqual([
        { conversation_id: GROUP_ID, user_id: ALICE, join_offset: 1n },
        { conversation_id: GROUP_ID, user_id: BOB, join_offset: 2n },
      ]);
    });

    it.each([1, 100])("a member's own messages are never unread; everyone else's are (chunks of %i)", async (size) => {
      log.append(...groupWith(ALICE, BOB, CAROL));
      log.append(messageSent(ALICE, 'a1'), messageSent(ALICE, 'a2'), messageSent(BOB, 'b1'), messageSent(ALICE, 'a3'));
      await whenApplied(size);

      expect(await unreadOf(ALICE, BOB, CAROL)).toEqual({ [ALICE]: 0, [BOB]: 1, [CAROL]: 4 });
      expect(await entry(ALICE)).toMatchObject({ last_seq: 4n, read_seq: 4n, read_offset: 7n, last_message_id: idOf(ALICE, 'a3') });
      expect(await entry(BOB)).toMatchObject({ last_seq: 4n, read_seq: 3n, read_offset: 6n });
    });

    it.each([1, 2, 100])('a duplicate MessageSent counts once and is not the last message (chunks of %i)', async (size) => {
      log.append(...groupWith(ALICE, BOB, CAROL)); // 0..3
      log.append(messageSent(BOB, 'b1', 'one', { sentAt: AT_1 }), messageSent(ALICE, 'a1', 'two', { sentAt: AT_2 })); // 4, 5
      log.append(messageSent(BOB, 'b1', 'one, retried', { sentAt: AT_3 })); // 6: the same message id as 4
      const changes = await whenApplied(size);

      const last = { last_seq: 2n, last_message_id: idOf(ALICE, 'a1'), last_offset: 5n, activity_at: AT_2, activity_offset: 5n };
      expect(await entry(CAROL)).toMatchObject(last);
      expect(await store.get(I.conversations.name, { conversation_id: GROUP_ID })).toMatchObject(last);
      expect(await unreadOf(ALICE, BOB, CAROL)).toEqual({ [ALICE]: 0, [BOB]: 1, [CAROL]: 2 });
      expect(await store.list(I.seqs.name, { conversation_id: GROUP_ID, bucket: 0n })).toStrictEqual([
        { conversation_id: GROUP_ID, bucket: 0n, offset: 4n, seq: 1n },
        { conversation_id: GROUP_ID, bucket: 0n, offset: 5n, seq: 2n },
      ]);
      expect(changes.filter((c) => c.kind === 'inbox' && c.userId === CAROL)).toHaveLength(1); // her join
      expect(changes).toContainEqual({ kind: 'inbox-head', conversationId: GROUP_ID }); // the messages, for every member at once
    });

    it('ignores every event of a conversation before its ConversationCreated', async () => {
      log.append(userJoined(BOB), messageSent(BOB, 'early'), userLeft(ALICE));
      log.append(conversationCreated(), userJoined(ALICE, AT_1));
      await whenApplied();

      expect(store.rows(I.entries.name)).toStrictEqual([{ user_id: ALICE, conversation_id: GROUP_ID, read_seq: 0n, read_offset: -1n }]);
      expect(await entry(ALICE)).toStrictEqual({
        user_id: ALICE, conversation_id: GROUP_ID, last_seq: 0n, last_message_id: null, last_offset: null,
        read_seq: 0n, read_offset: -1n, activity_at: AT_1, activity_offset: 4n,
      });
      expect(store.rows(I.seqs.name)).toEqual([]);
      expect(store.rows(I.messageIds.name)).toEqual([]);
    });

    it('keeps the first ConversationCreated: a second one (a concurrent create) changes nothing', async () => {
      log.append(...groupWith(ALICE, BOB), messageSent(BOB, 'b1', 'hi', { sentAt: AT_1 }));
      log.append(conversationCreated({ createdBy: CAROL, createdAt: AT_2 }));
      await whenApplied(1);

      expect(await store.get(I.conversations.name, { conversation_id: GROUP_ID })).toMatchObject({ last_seq: 1n, activity_at: AT_1, activity_offset: 3n });
    });

    it('dropStorage removes rows and checkpoint; the same instance then builds them again', async () => {
      log.append(...groupWith(ALICE, BOB), messageSent(BOB, 'b1'));
      await whenApplied();
      await inbox.dropStorage();
      await inbox.createStorage();
      expect(store.rows(I.entries.name)).toEqual([]);

      await whenApplied(1);
      expect(await unreadOf(ALICE, BOB)).toEqual({ [ALICE]: 1, [BOB]: 0 });
      expect(await inbox.checkpoints()).toEqual(new Map([[0, '4']]));
    });

    it('records the checkpoint of every chunk', async () => {
      log.append(...groupWith(ALICE, BOB), messageSent(BOB, 'b1'));
      await inbox.apply(0, log.events.slice(0, 3), '3');
      expect(await inbox.checkpoints()).toEqual(new Map([[0, '3']]));
      await inbox.apply(0, log.events.slice(3), '7');
      expect(await inbox.checkpoints()).toEqual(new Map([[0, '7']]));
    });
  });

  describe('read markers', () => {
    /** Alice and Bob; Bob sends four messages at offsets 3..6. */
    const fourFromBob = () => {
      log.append(...groupWith(ALICE, BOB));
      return log.append(...[1, 2, 3, 4].map((n) => messageSent(BOB, `b${n}`, `message ${n}`)));
    };

    it.each([1, 2, 100])('moving the marker to a message counts the messages up to it as read (chunks of %i)', async (size) => {
      const [, , m3] = fourFromBob();
      log.append(readMarkerMoved(ALICE, m3.position));
      const changes = await whenApplied(size);

      expect(await entry(ALICE)).toMatchObject({ last_seq: 4n, read_seq: 3n, read_offset: 5n });
      expect(await unread(ALICE)).toBe(1);
      expect(changes.at(-1)).toEqual({ kind: 'inbox', userId: ALICE, conversationId: GROUP_ID, removed: false });
    });

    it.each([1, 2, 100])('a marker moved backward after a forward one is ignored (chunks of %i)', async (size) => {
      const [m1, , m3] = fourFromBob();
      log.append(readMarkerMoved(ALICE, m3.position), readMarkerMoved(ALICE, m1.position));
      await whenApplied(size);

      expect(await entry(ALICE)).toMatchObject({ read_seq: 3n, read_offset: 5n });
      expect(await unread(ALICE)).toBe(1);
    });

    it('a backward marker in the same chunk as the forward one, after the messages were committed, is ignored', async () => {
      const [m1, m2] = fourFromBob();
      await inbox.apply(0, log.events, log.end);
      const markers = log.append(readMarkerMoved(ALICE, m2.position), readMarkerMoved(ALICE, m1.position));
      const changes = await inbox.apply(0, markers, log.end);

      expect(await entry(ALICE)).toMatchObject({ read_seq: 2n, read_offset: 4n });
      expect(changes).toEqual([{ kind: 'inbox', userId: ALICE, conversationId: GROUP_ID, removed: false }]);
    });

    it.each([1, 100])("a marker behind the member's own last message is ignored (chunks of %i)", async (size) => {
      const [m1] = fourFromBob();
      log.append(messageSent(ALICE, 'a1'), readMarkerMoved(ALICE, m1.position));
      await whenApplied(size);

      expect(await entry(ALICE)).toMatchObject({ last_seq: 5n, read_seq: 5n, read_offset: 7n });
    });

    it.each([1, 100])('a marker at a position between messages counts the messages at or before it (chunks of %i)', async (size) => {
      log.append(...groupWith(ALICE, BOB)); // 0..2
      log.append(messageSent(BOB, 'b1'), messageSent(BOB, 'b2')); // 3, 4
      const joined = log.add(userJoined(CAROL)); // 5
      log.append(messageSent(BOB, 'b3')); // 6
      log.append(readMarkerMoved(ALICE, joined.position));
      await whenApplied(size);

      expect(await entry(ALICE)).toMatchObject({ last_seq: 3n, read_seq: 2n, read_offset: 5n });
      expect(await unread(ALICE)).toBe(1);
    });

    it.each([1, 100])('a marker counts messages in earlier buckets when its own bucket has none before it (chunks of %i)', async (size) => {
      log = new TestLog(0, 99_995);
      log.append(...groupWith(ALICE, BOB)); // 99995..99997
      log.append(messageSent(BOB, 'b1'), messageSent(BOB, 'b2')); // 99998, 99999: bucket 0
      const joined = log.add(userJoined(CAROL)); // 100000: bucket 1
      log.append(messageSent(BOB, 'b3')); // 100001
      log.append(readMarkerMoved(ALICE, joined.position));
      await whenApplied(size);

      expect(await entry(ALICE)).toMatchObject({ last_seq: 3n, read_seq: 2n, read_offset: 100_000n });
      expect(await store.list(I.seqs.name, { conversation_id: GROUP_ID, bucket: 1n })).toStrictEqual([
        { conversation_id: GROUP_ID, bucket: 1n, offset: 100_001n, seq: 3n },
      ]);
    });

    it('a marker of a non-member changes nothing', async () => {
      const [m1] = fourFromBob();
      log.append(readMarkerMoved(CAROL, m1.position));
      const changes = await whenApplied();

      expect(await entry(CAROL)).toBeUndefined();
      expect(changes.filter((c) => c.kind === 'inbox' && c.userId === CAROL)).toEqual([]);
    });

    it.each([1, 100])('a new member starts with nothing unread, and a marker behind the join is ignored (chunks of %i)', async (size) => {
      const [m1] = fourFromBob(); // 3..6
      log.append(userJoined(DAVE, AT_1), readMarkerMoved(DAVE, m1.position)); // 7, 8
      await whenApplied(size);

      expect(await entry(DAVE)).toStrictEqual({
        user_id: DAVE, conversation_id: GROUP_ID, last_seq: 4n, last_message_id: idOf(BOB, 'b4'), last_offset: 6n,
        read_seq: 4n, read_offset: 6n, activity_at: AT_1, activity_offset: 7n,
      });
      log.append(messageSent(BOB, 'b5'));
      await inbox.apply(0, log.events.slice(-1), log.end);
      expect(await unreadOf(ALICE, DAVE)).toEqual({ [ALICE]: 5, [DAVE]: 1 });
    });
  });

  describe('leaving', () => {
    it.each([1, 100])('removes the entry and its order row; the others keep theirs (chunks of %i)', async (size) => {
      log.append(...groupWith(ALICE, BOB, CAROL), messageSent(BOB, 'b1', 'hi', { sentAt: AT_1 })); // 0..4
      log.append(userLeft(CAROL, AT_2)); // 5
      const changes = await whenApplied(size);

      expect(await entry(CAROL)).toBeUndefined();
      expect(await inboxOf(CAROL)).toEqual([]);
      expect(await store.list(I.members.name, { conversation_id: GROUP_ID })).toStrictEqual([
        { conversation_id: GROUP_ID, user_id: ALICE, join_offset: 1n },
        { conversation_id: GROUP_ID, user_id: BOB, join_offset: 2n },
      ]);
      // Leaving is no activity: the others' entries and order rows stay as they were.
      expect(await entry(ALICE)).toMatchObject({ activity_at: AT_1, activity_offset: 4n, last_seq: 1n });
      expect(await inboxOf(ALICE)).toStrictEqual([{ user_id: ALICE, activity_at: AT_1, activity_offset: 4n, conversation_id: GROUP_ID }]);
      expect(changes.at(-1)).toEqual({ kind: 'inbox', userId: CAROL, conversationId: GROUP_ID, removed: true });
    });

    it.each([1, 100])('a member who rejoins gets an entry again with nothing unread (chunks of %i)', async (size) => {
      log.append(...groupWith(ALICE, CAROL), messageSent(ALICE, 'a1')); // 0..3
      log.append(userLeft(CAROL, AT_1), messageSent(ALICE, 'a2', 'x', { sentAt: AT_2 }), userJoined(CAROL, AT_3)); // 4..6
      await whenApplied(size);

      expect(await entry(CAROL)).toStrictEqual({
        user_id: CAROL, conversation_id: GROUP_ID, last_seq: 2n, last_message_id: idOf(ALICE, 'a2'), last_offset: 5n,
        read_seq: 2n, read_offset: 5n, activity_at: AT_3, activity_offset: 6n,
      });
      expect(await inboxOf(CAROL)).toStrictEqual([{ user_id: CAROL, activity_at: AT_3, activity_offset: 6n, conversation_id: GROUP_ID }]);
    });

    it('a leave of a non-member changes nothing', async () => {
      log.append(...groupWith(ALICE, BOB), userLeft(CAROL));
      const changes = await whenApplied();

      expect(changes.filter((c) => c.kind === 'inbox' && c.removed)).toEqual([]);
      expect(store.rows(I.entries.name).map((r) => r.user_id).sort()).toEqual([ALICE, BOB]);
    });
  });

  describe('order by activity', () => {
    /** Alice is in three conversations, active at AT_1, AT_2 and AT_3. */
    const threeConversations = () => {
      log.append(...groupWith(ALICE, BOB)); // 0..2
      log.append(conversationCreated({ conversationId: OTHER_GROUP_ID, createdBy: CAROL }), userJoined(CAROL, NOW, OTHER_GROUP_ID));
      log.append(userJoined(ALICE, NOW, OTHER_GROUP_ID)); // 5
      log.append(...directBetween(ALICE, BOB)); // 6..8
      log.append(messageSent(BOB, 'g1', 'x', { sentAt: AT_1 })); // 9
      log.append(messageSent(CAROL, 'o1', 'x', { sentAt: AT_2, conversationId: OTHER_GROUP_ID })); // 10
      log.append(messageSent(BOB, 'd1', 'x', { sentAt: AT_3, conversationId: ALICE_BOB_ID })); // 11
    };

    it.each([1, 100])('lists the most recently active conversation first (chunks of %i)', async (size) => {
      threeConversations();
      await whenApplied(size);

      expect(await liveOrder(ALICE)).toEqual([ALICE_BOB_ID, OTHER_GROUP_ID, GROUP_ID]);
      expect(await liveOrder(BOB)).toEqual([ALICE_BOB_ID, GROUP_ID]);
      expect(await inboxOf(ALICE)).toStrictEqual([
        { user_id: ALICE, activity_at: AT_3, activity_offset: 11n, conversation_id: ALICE_BOB_ID },
        { user_id: ALICE, activity_at: AT_2, activity_offset: 10n, conversation_id: OTHER_GROUP_ID },
        { user_id: ALICE, activity_at: AT_1, activity_offset: 9n, conversation_id: GROUP_ID },
      ]);
    });

    it.each([1, 100])('a sent message moves its conversation to the top (chunks of %i)', async (size) => {
      threeConversations();
      log.append(messageSent(ALICE, 'g2', 'back on top', { sentAt: AT_4 })); // 12
      await whenApplied(size);

      expect(await liveOrder(ALICE)).toEqual([GROUP_ID, ALICE_BOB_ID, OTHER_GROUP_ID]);
      expect(await liveOrder(BOB)).toEqual([GROUP_ID, ALICE_BOB_ID]);
      expect(await inboxOf(BOB)).toStrictEqual([
        { user_id: BOB, activity_at: AT_4, activity_offset: 12n, conversation_id: GROUP_ID },
        { user_id: BOB, activity_at: AT_3, activity_offset: 11n, conversation_id: ALICE_BOB_ID },
      ]);
    });

    it('a join is activity and moves the conversation to the top for every member', async () => {
      threeConversations();
      log.append(userJoined(DAVE, AT_4, OTHER_GROUP_ID)); // 12
      await whenApplied(1);

      expect(await liveOrder(ALICE)).toEqual([OTHER_GROUP_ID, ALICE_BOB_ID, GROUP_ID]);
      expect(await liveOrder(DAVE)).toEqual([OTHER_GROUP_ID]);
      expect(await entry(ALICE, OTHER_GROUP_ID)).toMatchObject({ activity_at: AT_4, activity_offset: 12n });
    });

    it('a read marker is no activity: the order and the activity stay', async () => {
      threeConversations();
      log.append(readMarkerMoved(ALICE, { partition: 0, offset: '10' }, OTHER_GROUP_ID));
      await whenApplied();

      expect(await liveOrder(ALICE)).toEqual([ALICE_BOB_ID, OTHER_GROUP_ID, GROUP_ID]);
      expect(await entry(ALICE, OTHER_GROUP_ID)).toMatchObject({ activity_at: AT_2, activity_offset: 10n, read_seq: 1n });
    });
  });
});

/** The in-memory store, keeping what a projection writes: read-model rows apart from what it commits with the checkpoint. */
class CountingStore extends InMemoryReadModelStore {
  /** Every row mutation written outside the checkpoint's batch (data and membership). */
  written: RowMutation[] = [];
  /** State rows written in the checkpoint's batch (the heads), and how many batches. */
  state: RowMutation[] = [];
  commits = 0;
  marksRaised = 0;
  private committing = false;

  override async write(mutations: readonly RowMutation[]): Promise<void> {
    if (!this.committing) this.written.push(...mutations);
    return super.write(mutations);
  }

  override async commit(state: readonly RowMutation[], partition: number, nextOffset: string): Promise<void> {
    this.state.push(...state);
    this.commits++;
    this.committing = true;
    try {
      await super.commit(state, partition, nextOffset);
    } finally {
      this.committing = false;
    }
  }

  override async raiseWriteMark(partition: number, offset: string): Promise<void> {
    this.marksRaised++;
    return super.raiseWriteMark(partition, offset);
  }

  forget(): void {
    this.written = [];
    this.state = [];
    this.commits = 0;
    this.marksRaised = 0;
  }
}

describe('InboxProjection: the cost of one message, whatever the group size', () => {
  const memberIds = (n: number) => Array.from({ length: n }, (_, i) => `member-${String(i).padStart(4, '0')}`);

  /**
   * Storage as the projection leaves it after a group's creation (offset 0) and its members'
   * joins (offsets 1..n), built directly: applying n joins announces each to every member
   * so far (n²/2 changes, seconds for 5,000). The first test checks it against the projection.
   */
  const seedGroup = async (store: InMemoryReadModelStore, members: readonly string[]): Promise<TestLog> => {
    const joins = members.map((userId, i): RowMutation[] => {
      const offset = String(i + 1);
      return [
        { table: I.entries.name, key: { user_id: userId, conversation_id: GROUP_ID }, values: { read_seq: 0n, read_offset: -1n }, writeTime: writeTimeOf(offset, 2) },
        { table: I.members.name, key: { conversation_id: GROUP_ID, user_id: userId }, values: { join_offset: BigInt(offset) }, writeTime: writeTimeOf(offset) },
      ];
    });
    await store.write(joins.flat());
    const end = String(members.length + 1);
    const head = { last_seq: 0n, last_message_id: null, last_offset: null, activity_at: NOW, activity_offset: BigInt(members.length) };
    await store.commit([{ table: I.conversations.name, key: { conversation_id: GROUP_ID }, values: head, writeTime: writeTimeOf(end) }], 0, end);
    return new TestLog(0, BigInt(end));
  };

  /** A projection resuming on a group of `n` members (as after a restart: it reads the members once). */
  const groupOf = async (n: number) => {
    const store = new CountingStore();
    const inbox = new InboxProjection(store);
    await inbox.createStorage();
    const members = memberIds(n);
    const log = await seedGroup(store, members);
    store.forget();
    /** Applies the events as one chunk; returns what it cost. */
    const apply = async (...events: RecordedEvent[]) => {
      store.forget();
      const changes = await inbox.apply(0, events, log.end);
      const tables = store.written.map((m) => `${m.table}${m.values ? '' : ' (delete)'}`).sort();
      return { rows: store.written.length, tables, state: store.state.map((m) => m.table), commits: store.commits, changes };
    };
    const view = (userId: string, conversationId = GROUP_ID) => entryAsRead(store, userId, conversationId);
    return { store, inbox, log, members, apply, view };
  };

  it('the seeded group is what the projection builds', async () => {
    const seeded = new InMemoryReadModelStore();
    await new InboxProjection(seeded).createStorage();
    const log = await seedGroup(seeded, memberIds(4));

    const built = new InMemoryReadModelStore();
    const inbox = new InboxProjection(built);
    await inbox.createStorage();
    const events = new TestLog();
    events.append(conversationCreated({ createdBy: 'member-0000' }), ...memberIds(4).map((u) => userJoined(u)));
    await inbox.apply(0, events.events, events.end);
    expect(events.end).toBe(log.end);
    expect(await snapshot(built, INBOX_TABLES)).toEqual(await snapshot(seeded, INBOX_TABLES));
  });

  // Counted: every row the projection writes outside the checkpoint's batch (the message id,
  // the message's number, the sender's read marker), and apart from them the state rows it
  // commits with the checkpoint, one LOGGED batch per chunk: the conversation's head, once per
  // chunk whatever the number of messages. Not counted: the checkpoint row itself and write
  // marks (raised once per 1,000 offsets at most), and reads.
  it.each([4, 5_000])('a message in a group of %i members writes 3 rows, and its head once with the checkpoint', async (n) => {
    const { log, members, apply, view } = await groupOf(n);
    const [, sender, reader] = members;
    const cost = await apply(log.add(messageSent(sender, 'm1', 'hello all', { sentAt: AT_1 })));

    expect(cost).toMatchObject({
      rows: 3,
      tables: [I.entries.name, I.messageIds.name, I.seqs.name],
      state: [I.conversations.name],
      commits: 1,
    });
    // Every member's inbox is told by one change (published, not stored), and shows the message.
    expect(cost.changes).toEqual([{ kind: 'inbox-head', conversationId: GROUP_ID }]);
    const shown = { last_seq: 1n, last_message_id: idOf(sender, 'm1'), activity_at: AT_1, activity_offset: BigInt(log.end) - 1n };
    expect(await view(sender)).toMatchObject({ ...shown, read_seq: 1n });
    expect(await view(reader)).toMatchObject({ ...shown, read_seq: 0n });
    expect(await view(members.at(-1)!)).toMatchObject({ ...shown, read_seq: 0n });
  });

  it.each([4, 5_000])('a numbered message (written since ADR 0009) in a group of %i members writes 1 row, the sender\'s marker, and its head once', async (n) => {
    const { log, members, apply, view } = await groupOf(n);
    const [, sender, reader] = members;
    const cost = await apply(log.add(messageSent(sender, 'm1', 'hello all', { sentAt: AT_1, seq: 1 })));

    expect(cost).toMatchObject({ rows: 1, tables: [I.entries.name], state: [I.conversations.name], commits: 1 });
    expect(await view(sender)).toMatchObject({ last_seq: 1n, read_seq: 1n });
    expect(await view(reader)).toMatchObject({ last_seq: 1n, read_seq: 0n });
  });

  it('a read marker that carries its number counts from it, however far back it points, reading nothing', async () => {
    const { log, members, apply, view, store } = await groupOf(4);
    const sent = Array.from({ length: 100 }, (_, i) => log.add(messageSent(members[0], `m${i}`, 'x', { seq: i + 1 })));
    await apply(...sent);
    const marker = readMarkerMoved(members[1], sent[4].position);
    const reads = jest.spyOn(store, 'list');

    const cost = await apply(log.add({ ...marker, data: { ...marker.data, upToSeq: 5 } }));
    expect(cost).toMatchObject({ rows: 1, tables: [I.entries.name], state: [] });
    expect(reads).not.toHaveBeenCalled();
    expect(await view(members[1])).toMatchObject({ last_seq: 100n, read_seq: 5n });
  });

  it.each([4, 5_000])('in a group of %i members: a read marker writes 1 row, a join 2 and the head, a leave 2', async (n) => {
    const { log, members, apply, view } = await groupOf(n);
    const m1 = log.add(messageSent(members[0], 'm1'));
    await apply(m1);

    expect(await apply(log.add(readMarkerMoved(members[1], m1.position)))).toMatchObject({ rows: 1, tables: [I.entries.name], state: [] });
    expect(await view(members[1])).toMatchObject({ last_seq: 1n, read_seq: 1n });

    const joined = await apply(log.add(userJoined(ERIN, AT_2)));
    expect(joined).toMatchObject({ rows: 2, tables: [I.entries.name, I.members.name], state: [I.conversations.name] });
    // The newcomer's entry, and the head (a join is activity for every member): two changes, whatever n.
    expect(joined.changes).toEqual([
      { kind: 'inbox', userId: ERIN, conversationId: GROUP_ID, removed: false },
      { kind: 'inbox-head', conversationId: GROUP_ID },
    ]);
    expect(await view(ERIN)).toMatchObject({ last_seq: 1n, read_seq: 1n, activity_at: AT_2 });

    const left = await apply(log.add(userLeft(members[2], AT_3)));
    expect(left).toMatchObject({ rows: 2, tables: [`${I.entries.name} (delete)`, `${I.members.name} (delete)`], state: [] });
    expect(left.changes).toEqual([{ kind: 'inbox', userId: members[2], conversationId: GROUP_ID, removed: true }]);
    expect(await view(members[2])).toBeUndefined();
  });

  it('a chunk of 100 messages to 5,000 members writes 2 rows per message, the senders\' markers once, and one head', async () => {
    const { log, members, apply, view, store } = await groupOf(5_000);
    const senders = members.slice(0, 3);
    const messages = Array.from({ length: 100 }, (_, i) => log.add(messageSent(senders[i % 3], `m${i}`)));
    const cost = await apply(...messages);

    expect(cost).toMatchObject({ rows: 2 * 100 + senders.length, state: [I.conversations.name], commits: 1 });
    expect(store.marksRaised).toBeLessThanOrEqual(1);
    expect(await view(members[0])).toMatchObject({ last_seq: 100n, read_seq: 100n }); // sent the last one
    expect(await view(members[1])).toMatchObject({ last_seq: 100n, read_seq: 98n });
    expect(await view(members[4_999])).toMatchObject({ last_seq: 100n, read_seq: 0n });
  });

  it('a message in the large group moves it to the top of every member\'s inbox, writing the group\'s head only', async () => {
    const { log, members, apply, view, store } = await groupOf(5_000);
    const last = members.at(-1)!;
    log.append(conversationCreated({ conversationId: OTHER_GROUP_ID, createdBy: last }), userJoined(last, AT_1, OTHER_GROUP_ID));
    await apply(...log.events);
    expect(await view(last, OTHER_GROUP_ID)).toMatchObject({ activity_at: AT_1 });

    const cost = await apply(log.add(messageSent(members[0], 'top', 'x', { sentAt: AT_2 })));
    expect(cost).toMatchObject({ rows: 3, state: [I.conversations.name] });
    const heads = await Promise.all([GROUP_ID, OTHER_GROUP_ID].map((conversation_id) => store.get(I.conversations.name, { conversation_id })));
    expect(heads.map((h) => h?.activity_at)).toEqual([AT_2, AT_1]);
    expect(await view(last)).toMatchObject({ activity_at: AT_2, last_seq: 1n, read_seq: 0n });
  });
});

describeReplaySafety('InboxProjection', {
  tables: INBOX_TABLES,
  create: (store) => new InboxProjection(store),
  scenario: inboxScenario,
});

/** Messages numbered by their writer (ADR 0009), read markers with their numbers, joins and leaves. */
function numberedInboxScenario(): TestLog {
  const log = new TestLog(1, 50);
  const marker = (userId: string, at: RecordedEvent, upToSeq: number, conversationId = GROUP_ID) => {
    const event = readMarkerMoved(userId, at.position, conversationId);
    return { ...event, data: { ...event.data, upToSeq } };
  };
  log.append(...groupWith(ALICE, BOB, CAROL), conversationCreated({ conversationId: OTHER_GROUP_ID, createdBy: BOB }), userJoined(BOB, NOW, OTHER_GROUP_ID));
  const m1 = log.add(messageSent(BOB, 'm1', 'one', { seq: 1, sentAt: AT_1 }));
  log.append(messageSent(CAROL, 'm2', 'two', { seq: 2, sentAt: AT_1 }), marker(ALICE, m1, 1));
  const o1 = log.add(messageSent(BOB, 'o1', 'other one', { conversationId: OTHER_GROUP_ID, seq: 1, sentAt: AT_2 }));
  log.append(userLeft(CAROL, AT_2), userJoined(DAVE, AT_2), userJoined(ALICE, AT_2, OTHER_GROUP_ID));
  const m3 = log.add(messageSent(ALICE, 'm3', 'three', { seq: 3, sentAt: AT_3 }));
  log.append(marker(BOB, m3, 3), marker(ALICE, o1, 1, OTHER_GROUP_ID), messageSent(DAVE, 'm4', 'four', { seq: 4, sentAt: AT_4 }));
  return log;
}

describeStateAheadOfCheckpoint('InboxProjection', {
  tables: INBOX_TABLES,
  create: (store) => new InboxProjection(store),
  scenario: numberedInboxScenario,
});

/** Two conversations in one partition, across a bucket boundary, with every kind of event. */
function inboxScenario(): TestLog {
  const log = new TestLog(0, 99_990);
  log.append(userJoined(DAVE), messageSent(DAVE, 'early', 'before the conversation exists'));
  log.append(...groupWith(ALICE, CAROL, BOB));
  log.append(conversationCreated({ conversationId: OTHER_GROUP_ID, createdBy: BOB }));
  log.append(userJoined(BOB, NOW, OTHER_GROUP_ID), userJoined(ALICE, NOW, OTHER_GROUP_ID));
  const m1 = log.add(messageSent(BOB, 'm1', 'one', { sentAt: AT_1 }));
  const m2 = log.add(messageSent(CAROL, 'm2', 'two', { sentAt: AT_1 }));
  log.append(readMarkerMoved(ALICE, m2.position), readMarkerMoved(ALICE, m1.position)); // forward, then backward
  const o1 = log.add(messageSent(BOB, 'o1', 'other one', { conversationId: OTHER_GROUP_ID, sentAt: AT_1 }));
  log.append(userJoined(DAVE, AT_2), readMarkerMoved(DAVE, m1.position)); // behind the join: ignored
  log.append(messageSent(BOB, 'm1', 'one again', { sentAt: AT_2 })); // a duplicate of m1
  const m3 = log.add(messageSent(ALICE, 'm3', 'three', { sentAt: AT_2 })); // bucket 1 from here on
  log.append(userLeft(CAROL, AT_2), readMarkerMoved(CAROL, m3.position)); // a marker of a non-member
  const m4 = log.add(messageSent(DAVE, 'm4', 'four', { sentAt: AT_3 }));
  log.append(readMarkerMoved(BOB, m3.position), readMarkerMoved(ALICE, o1.position, OTHER_GROUP_ID));
  log.append(userJoined(CAROL, AT_3), userLeft(BOB, AT_3), userJoined(BOB, AT_4));
  const m5 = log.add(messageSent(BOB, 'm5', 'five', { sentAt: AT_4 }));
  log.append(messageSent(ALICE, 'o2', 'other two', { conversationId: OTHER_GROUP_ID, sentAt: AT_4 }));
  log.append(userLeft(ALICE, AT_5, OTHER_GROUP_ID), messageSent(BOB, 'm3x', 'six', { sentAt: AT_5 }));
  log.append(readMarkerMoved(DAVE, m3.position), messageSent(ALICE, 'm3', 'three again', { sentAt: AT_5 }));
  // Markers that stay the last word: between messages, and behind a join.
  log.append(userJoined(ERIN, AT_5), readMarkerMoved(ERIN, m1.position));
  log.append(readMarkerMoved(CAROL, m5.position), readMarkerMoved(ALICE, m4.position));
  return log;
}
