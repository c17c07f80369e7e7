import type {
  CreateConversation,
  JoinConversation,
  LeaveConversation,
  MarkRead,
  SendMessage,
} from '../conversation.commands';
import type {
  ConversationCreated,
  ConversationEvent,
  MessageSent,
  ReadMarkerMoved,
  UserJoined,
  UserLeft,
} from '../conversation.events';
import { directConversationId, messageIdFor } from '../ids';
import type { LogPosition } from '../log-position';
import { atPosition, type PositionedEvent } from './decider-spec';

/** Builders for conversation tests: every field has a sensible default, tests override what they are about. */

export const NOW = '2025-03-01T10:00:00.000Z';
export const LATER = '2025-03-01T11:30:00.000Z';

export const ALICE = 'alice';
export const BOB = 'bob';
export const CAROL = 'carol';
export const DAVE = 'dave';

export const GROUP_ID = 'g_01jnfx3c9m8q2v7k4x6b5n1t0r';
export const OTHER_GROUP_ID = 'g_01jnfx3c9m8q2v7k4x6b5n1t0s';
export const ALICE_BOB_ID = directConversationId(ALICE, BOB);

/** Positions in partition 0, where the tests' conversations live. */
export function offset(value: number | string): LogPosition {
  return { partition: 0, offset: String(value) };
}

export function at<Event>(offsetValue: number | string, event: Event): PositionedEvent<Event> {
  return atPosition(offset(offsetValue), event);
}

/** Lets a test pass what an untyped edge could send, e.g. a number where a string belongs. */
export function untyped<T>(value: unknown): T {
  return value as T;
}

export function conversationCreated(overrides: Partial<ConversationCreated['data']> = {}): ConversationCreated {
  return {
    type: 'ConversationCreated',
    data: {
      conversationId: GROUP_ID,
      kind: 'GROUP',
      title: null,
      createdBy: ALICE,
      memberIds: [],
      createdAt: NOW,
      ...overrides,
    },
  };
}

export function userJoined(userId: string, joinedAt = NOW, conversationId = GROUP_ID): UserJoined {
  return { type: 'UserJoined', data: { conversationId, userId, joinedAt } };
}

export function userLeft(userId: string, leftAt = LATER, conversationId = GROUP_ID): UserLeft {
  return { type: 'UserLeft', data: { conversationId, userId, leftAt } };
}

export function messageSent(
  senderId: string,
  clientMessageId: string,
  body = 'hello',
  { conversationId = GROUP_ID, sentAt = NOW, seq }: { conversationId?: string; sentAt?: string; seq?: number } = {},
): MessageSent {
  return {
    type: 'MessageSent',
    data: {
      conversationId,
      messageId: messageIdFor(conversationId, senderId, clientMessageId),
      clientMessageId,
      senderId,
      body,
      sentAt,
      ...(seq === undefined ? {} : { seq }),
    },
  };
}

export function readMarkerMoved(userId: string, upTo: LogPosition, conversationId = GROUP_ID): ReadMarkerMoved {
  return { type: 'ReadMarkerMoved', data: { conversationId, userId, upTo, movedAt: LATER } };
}

/** A group created by `creator` with `others` as initial members, as CreateConversation would record it. */
export function groupWith(creator: string, ...others: string[]): ConversationEvent[] {
  return [
    conversationCreated({ createdBy: creator, memberIds: others }),
    userJoined(creator),
    ...others.map((userId) => userJoined(userId)),
  ];
}

export function directBetween(creator: string, other: string): ConversationEvent[] {
  const conversationId = directConversationId(creator, other);
  return [
    conversationCreated({ conversationId, kind: 'DIRECT', createdBy: creator, memberIds: [other] }),
    userJoined(creator, NOW, conversationId),
    userJoined(other, NOW, conversationId),
  ];
}

export function createConversation(overrides: Partial<CreateConversation['data']> = {}): CreateConversation {
  return {
    type: 'CreateConversation',
    data: { conversationId: GROUP_ID, kind: 'GROUP', memberIds: [], actorId: ALICE, now: NOW, ...overrides },
  };
}

export function joinConversation(actorId: string, conversationId = GROUP_ID): JoinConversation {
  return { type: 'JoinConversation', data: { conversationId, actorId, now: LATER } };
}

export function leaveConversation(actorId: string, conversationId = GROUP_ID): LeaveConversation {
  return { type: 'LeaveConversation', data: { conversationId, actorId, now: LATER } };
}

export function sendMessage(
  actorId: string,
  body: string,
  { clientMessageId = 'client-1', conversationId = GROUP_ID } = {},
): SendMessage {
  return { type: 'SendMessage', data: { conversationId, body, clientMessageId, actorId, now: LATER } };
}

export function markRead(actorId: string, upTo: LogPosition, conversationId = GROUP_ID): MarkRead {
  return { type: 'MarkRead', data: { conversationId, upTo, actorId, now: LATER } };
}
