import { decide, evolve, initialState } from './conversation.decider';
import type { ConversationEvent } from './conversation.events';
import type { ConversationState, CreatedConversation } from './conversation.state';
import { restoreConversation, snapshotOf } from './conversation.snapshot';
import { ALICE, BOB, CAROL, groupWith, joinConversation, leaveConversation, markRead, messageSent, offset, readMarkerMoved, sendMessage } from './testing/conversation-fixtures';

function replay(events: ConversationEvent[]): CreatedConversation {
  const state = events.reduce<ConversationState>((s, event, i) => evolve(s, event, offset(i)), initialState());
  if (state.status !== 'CREATED') throw new Error('expected a created conversation');
  return state;
}

const history = (): ConversationEvent[] => [...groupWith(ALICE, BOB), messageSent(BOB, 'b-1', 'hi', { seq: 1 }), readMarkerMoved(ALICE, offset(3)), messageSent(ALICE, 'a-1', 'yo', { seq: 2 })];

describe('conversation snapshots', () => {
  it('survive JSON and restore what deciding needs: members in join order with their markers, the count, the last position', () => {
    const original = replay(history());
    const restored = restoreConversation(JSON.parse(JSON.stringify(snapshotOf(original))));
    expect([...restored.members.values()]).toEqual([...original.members.values()]);
    expect(restored).toMatchObject({ conversationId: original.conversationId, kind: 'GROUP', createdBy: ALICE, messageCount: 2, lastMessagePosition: offset(5) });
  });

  it("keep the state's window of latest messages: a retry of one is answered from the restored state", () => {
    const original = replay(history());
    const restored = restoreConversation(JSON.parse(JSON.stringify(snapshotOf(original))));
    expect([...restored.messages.values()]).toEqual([...original.messages.values()]);
    expect(restored.messages.hasEvicted).toBe(false);
    expect(decide(sendMessage(BOB, 'hi', { clientMessageId: 'b-1' }), restored)).toEqual([]);
  });

  it('written without messages (an earlier format) hold none: every message counts as evicted through the last, for the read model to find', () => {
    const restored = restoreConversation({ ...snapshotOf(replay(history())), messages: undefined });
    expect(restored.messages.size).toBe(0);
    expect(restored.messages.hasEvicted).toBe(true);
    expect(restored.messages.evictedThrough).toEqual(offset(5));
  });

  it('of a conversation without messages evict nothing', () => {
    const restored = restoreConversation(snapshotOf(replay(groupWith(ALICE))));
    expect(restored.messages.hasEvicted).toBe(false);
    expect(restored.messageCount).toBe(0);
  });

  it('decide joins, leaves, sends and read markers as the state they were taken of does', () => {
    const original = replay(history());
    const restored = restoreConversation(snapshotOf(original));
    const numbered = markRead(BOB, offset(5));
    const commands = [joinConversation(CAROL), joinConversation(BOB), leaveConversation(BOB), sendMessage(BOB, 'new', { clientMessageId: 'b-2' }), { ...numbered, data: { ...numbered.data, upToSeq: 2 } }];
    for (const command of commands) expect(decide(command, restored)).toEqual(decide(command, original));
    expect(() => decide(sendMessage(CAROL, 'not a member'), restored)).toThrow();
  });

  it('without messages, leave a read marker for the read model to number', () => {
    const original = replay(history());
    const [moved] = decide(markRead(BOB, offset(5)), restoreConversation({ ...snapshotOf(original), messages: undefined }));
    expect(moved).toMatchObject({ type: 'ReadMarkerMoved', data: { upTo: offset(5) } });
    expect(moved.type === 'ReadMarkerMoved' && moved.data.upToSeq).toBeUndefined();
    expect(decide(markRead(BOB, offset(5)), original)).toMatchObject([{ data: { upToSeq: 2 } }]);
  });
});
