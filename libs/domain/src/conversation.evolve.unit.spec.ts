import { conversationDecider } from './conversation.decider';
import type { ConversationEvent } from './conversation.events';
import {
  type ConversationState,
  type CreatedConversation,
  findMessage,
  isMember,
  membersInJoinOrder,
} from './conversation.state';
import { messageIdFor } from './ids';
import type { LogPosition } from './log-position';
import {
  ALICE,
  BOB,
  CAROL,
  conversationCreated,
  GROUP_ID,
  groupWith,
  LATER,
  messageSent,
  NOW,
  offset,
  readMarkerMoved,
  untyped,
  userJoined,
  userLeft,
} from './testing/conversation-fixtures';

const { evolve, initialState } = conversationDecider;

type Entry = ConversationEvent | [ConversationEvent, LogPosition];

function stateAfter(entries: readonly Entry[], from: ConversationState = initialState()): ConversationState {
  return entries.reduce(
    (state, entry) => (Array.isArray(entry) ? evolve(state, entry[0], entry[1]) : evolve(state, entry)),
    from,
  );
}

function created(entries: readonly Entry[]): CreatedConversation {
  const state = stateAfter(entries);
  if (state.status !== 'CREATED') throw new Error('expected a created conversation');
  return state;
}

function markerOf(state: CreatedConversation, userId: string): LogPosition | null | undefined {
  return state.members.get(userId)?.readMarker;
}

describe('initialState', () => {
  it('is a conversation that was not created', () => {
    expect(initialState()).toStrictEqual({ status: 'NOT_CREATED' });
  });
});

describe('evolve', () => {
  it('builds the conversation from ConversationCreated and the joins that follow', () => {
    const state = created([
      conversationCreated({ title: 'Launch', memberIds: [CAROL, BOB] }),
      userJoined(ALICE),
      userJoined(CAROL),
      userJoined(BOB, LATER),
    ]);
    expect(state).toMatchObject({
      status: 'CREATED',
      conversationId: GROUP_ID,
      kind: 'GROUP',
      title: 'Launch',
      createdBy: ALICE,
      createdAt: NOW,
      lastMessagePosition: null,
    });
    expect(membersInJoinOrder(state)).toStrictEqual([
      { userId: ALICE, joinedAt: NOW, readMarker: null },
      { userId: CAROL, joinedAt: NOW, readMarker: null },
      { userId: BOB, joinedAt: LATER, readMarker: null },
    ]);
    expect(state.messageIds.size).toBe(0);
    expect(state.messages.size).toBe(0);
  });

  it('removes a member who leaves', () => {
    const state = created([...groupWith(ALICE, BOB, CAROL), userLeft(BOB)]);
    expect(membersInJoinOrder(state).map((member) => member.userId)).toStrictEqual([ALICE, CAROL]);
    expect(isMember(state, BOB)).toBe(false);
  });

  it('puts a member who rejoins at the end, with the new join time and no read marker', () => {
    const state = created([
      ...groupWith(ALICE, BOB, CAROL),
      [messageSent(BOB, 'client-1'), offset(5)],
      userLeft(BOB),
      userJoined(BOB, LATER),
    ]);
    expect(membersInJoinOrder(state)).toStrictEqual([
      { userId: ALICE, joinedAt: NOW, readMarker: null },
      { userId: CAROL, joinedAt: NOW, readMarker: null },
      { userId: BOB, joinedAt: LATER, readMarker: null },
    ]);
  });

  describe('MessageSent with its position', () => {
    const state = created([...groupWith(ALICE, BOB, CAROL), [messageSent(BOB, 'client-1', 'hi'), offset(7)]]);
    const messageId = messageIdFor(GROUP_ID, BOB, 'client-1');

    it('remembers the message id and the message', () => {
      expect([...state.messageIds]).toStrictEqual([messageId]);
      expect(findMessage(state, messageId)).toStrictEqual({
        messageId,
        clientMessageId: 'client-1',
        senderId: BOB,
        body: 'hi',
        sentAt: NOW,
        position: offset(7),
      });
    });

    it('remembers the position of the last message', () => {
      expect(state.lastMessagePosition).toStrictEqual(offset(7));
    });

    it("moves only the sender's read marker to the message, keeping member order", () => {
      expect(membersInJoinOrder(state)).toStrictEqual([
        { userId: ALICE, joinedAt: NOW, readMarker: null },
        { userId: BOB, joinedAt: NOW, readMarker: offset(7) },
        { userId: CAROL, joinedAt: NOW, readMarker: null },
      ]);
    });
  });

  it('orders the last message position numerically ("10" after "9")', () => {
    const state = created([
      ...groupWith(ALICE),
      [messageSent(ALICE, 'client-1'), offset(9)],
      [messageSent(ALICE, 'client-2'), offset(10)],
    ]);
    expect(state.lastMessagePosition).toStrictEqual(offset(10));
    expect(markerOf(state, ALICE)).toStrictEqual(offset(10));
  });

  it('records a MessageSent without a position but leaves positions alone', () => {
    const state = created([...groupWith(ALICE), [messageSent(ALICE, 'client-1'), offset(2)], messageSent(ALICE, 'client-2')]);
    expect(findMessage(state, messageIdFor(GROUP_ID, ALICE, 'client-2'))?.position).toBeNull();
    expect(state.messageIds.size).toBe(2);
    expect(state.lastMessagePosition).toStrictEqual(offset(2));
    expect(markerOf(state, ALICE)).toStrictEqual(offset(2));
  });

  it('keeps the first of two MessageSent with the same id, as concurrent retries can append both', () => {
    const state = created([
      ...groupWith(ALICE, BOB),
      [messageSent(ALICE, 'client-1', 'first'), offset(3)],
      [messageSent(ALICE, 'client-1', 'second'), offset(4)],
    ]);
    const message = findMessage(state, messageIdFor(GROUP_ID, ALICE, 'client-1'));
    expect(message).toMatchObject({ body: 'first', position: offset(3) });
    expect(state.messages.size).toBe(1);
    expect(state.lastMessagePosition).toStrictEqual(offset(3));
  });

  it('records a message from a sender who is no longer a member without giving them a marker', () => {
    const state = created([...groupWith(ALICE, BOB), userLeft(BOB), [messageSent(BOB, 'client-1'), offset(6)]]);
    expect(state.lastMessagePosition).toStrictEqual(offset(6));
    expect(state.members.has(BOB)).toBe(false);
    expect(state.messageIds.has(messageIdFor(GROUP_ID, BOB, 'client-1'))).toBe(true);
  });

  describe('read markers only move forward', () => {
    const history: Entry[] = [...groupWith(ALICE, BOB), [messageSent(ALICE, 'client-1'), offset(3)], [messageSent(ALICE, 'client-2'), offset(8)]];

    it('moves on ReadMarkerMoved', () => {
      expect(markerOf(created([...history, readMarkerMoved(BOB, offset(3))]), BOB)).toStrictEqual(offset(3));
    });

    it('ignores a ReadMarkerMoved behind the current marker', () => {
      const state = created([...history, readMarkerMoved(BOB, offset(8)), readMarkerMoved(BOB, offset(3))]);
      expect(markerOf(state, BOB)).toStrictEqual(offset(8));
    });

    it('keeps a marker that is ahead of a message sent at an earlier position', () => {
      const state = created([...history, readMarkerMoved(BOB, offset(8)), [messageSent(BOB, 'client-3'), offset(5)]]);
      expect(markerOf(state, BOB)).toStrictEqual(offset(8));
    });

    it('ignores a ReadMarkerMoved of a non-member', () => {
      const before = created(history);
      const after = created([...history, readMarkerMoved(CAROL, offset(3))]);
      expect(after.members).toStrictEqual(before.members);
    });
  });

  describe('tolerates what concurrent decisions can append', () => {
    it('keeps the first ConversationCreated', () => {
      const state = created([
        ...groupWith(ALICE, BOB),
        conversationCreated({ createdBy: CAROL, title: 'Later', createdAt: LATER }),
        userJoined(CAROL, LATER),
      ]);
      expect(state).toMatchObject({ createdBy: ALICE, title: null, createdAt: NOW });
      expect(membersInJoinOrder(state).map((member) => member.userId)).toStrictEqual([ALICE, BOB, CAROL]);
    });

    it('keeps the first join of a member', () => {
      const state = created([...groupWith(ALICE, BOB), userJoined(BOB, LATER)]);
      expect(state.members.get(BOB)?.joinedAt).toBe(NOW);
      expect(membersInJoinOrder(state).map((member) => member.userId)).toStrictEqual([ALICE, BOB]);
    });

    it('ignores a leave of a non-member', () => {
      const before = created(groupWith(ALICE, BOB));
      expect(created([...groupWith(ALICE, BOB), userLeft(CAROL)]).members).toStrictEqual(before.members);
    });

    it('ignores events that arrive before the conversation was created', () => {
      const state = stateAfter([userJoined(ALICE), [messageSent(ALICE, 'client-1'), offset(1)], userLeft(ALICE), readMarkerMoved(ALICE, offset(1))]);
      expect(state).toStrictEqual({ status: 'NOT_CREATED' });
    });

    it('ignores an event type this version does not know', () => {
      const before = created(groupWith(ALICE));
      const after = evolve(before, untyped<ConversationEvent>({ type: 'MessageRedacted', data: {} }), offset(9));
      expect(after).toBe(before);
    });
  });

  it('never changes the state it was given', () => {
    const before = created([...groupWith(ALICE, BOB), [messageSent(ALICE, 'client-1'), offset(1)]]);
    const contentsOf = (state: CreatedConversation) => ({
      members: [...state.members],
      messageIds: [...state.messageIds],
      messages: [...state.messages],
      lastMessagePosition: state.lastMessagePosition,
    });
    const snapshot = contentsOf(before);
    stateAfter(
      [
        userJoined(CAROL),
        userLeft(ALICE),
        [messageSent(BOB, 'client-2'), offset(2)],
        readMarkerMoved(BOB, offset(2)),
      ],
      before,
    );
    expect(contentsOf(before)).toStrictEqual(snapshot);
  });
});

describe('state queries', () => {
  it('answer for a conversation that was not created', () => {
    const state = initialState();
    expect(isMember(state, ALICE)).toBe(false);
    expect(membersInJoinOrder(state)).toStrictEqual([]);
    expect(findMessage(state, messageIdFor(GROUP_ID, ALICE, 'client-1'))).toBeUndefined();
  });

  it('answer for a created conversation', () => {
    const state = created([...groupWith(ALICE), messageSent(ALICE, 'client-1', 'hi')]);
    expect(isMember(state, ALICE)).toBe(true);
    expect(isMember(state, BOB)).toBe(false);
    expect(findMessage(state, messageIdFor(GROUP_ID, ALICE, 'client-1'))?.body).toBe('hi');
    expect(findMessage(state, messageIdFor(GROUP_ID, ALICE, 'client-2'))).toBeUndefined();
  });
});
