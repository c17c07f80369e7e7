import type {
  ConversationCommand,
  CreateConversation,
  JoinConversation,
  LeaveConversation,
  MarkRead,
  SendMessage,
} from './conversation.commands';
import type { ConversationEvent, MessageSent, UserJoined } from './conversation.events';
import type {
  ConversationMember,
  ConversationState,
  CreatedConversation,
  SentMessage,
} from './conversation.state';
import { type Decider, unreachable } from './decider';
import {
  ConversationAlreadyExistsError,
  ConversationNotFoundError,
  describeValue,
  DirectConversationIdMismatchError,
  DirectConversationMembersError,
  DirectConversationTitleError,
  DirectConversationWithSelfError,
  InvalidClientConversationIdError,
  InvalidConversationIdError,
  NotAGroupConversationError,
  ReadMarkerOutOfRangeError,
} from './domain-errors';
import { directConversationId, groupConversationIdFor, isConversationId, isGroupConversationId, messageIdFor } from './ids';
import { comparePositions, laterPosition, type LogPosition } from './log-position';
import { MessageHistory } from './message-history';
import {
  assertClientConversationId,
  assertClientMessageId,
  assertConversationKind,
  assertLogPosition,
  assertMessageBody,
  assertUserId,
  normalizeMemberIds,
  normalizeTitle,
} from './validation';

/*
 * Rule order in every command: first the command's own fields (BAD_USER_INPUT, which depends
 * on nothing stored), then existence and membership (NOT_FOUND), then the rules that need the
 * state. Checking input first means a rejection never tells an outsider anything about the stream.
 */

export function initialState(): ConversationState {
  return { status: 'NOT_CREATED' };
}

export function decide(command: ConversationCommand, state: ConversationState): ConversationEvent[] {
  switch (command.type) {
    case 'CreateConversation':
      return createConversation(command, state);
    case 'JoinConversation':
      return joinConversation(command, state);
    case 'LeaveConversation':
      return leaveConversation(command, state);
    case 'SendMessage':
      return sendMessage(command, state);
    case 'MarkRead':
      return markRead(command, state);
    default:
      return unreachable(command, 'conversation command');
  }
}

/**
 * Tolerant of what concurrent deciders may have appended: the event log has no per-stream
 * optimistic concurrency, so two decisions taken on the same state can both land. Hence the
 * first ConversationCreated and the first MessageSent of a message id win, joins of members
 * and leaves of non-members change nothing, and read markers only ever move forward.
 */
export function evolve(state: ConversationState, event: ConversationEvent, position?: LogPosition): ConversationState {
  switch (event.type) {
    case 'ConversationCreated': {
      if (state.status === 'CREATED') return state;
      const { conversationId, kind, title, createdBy, createdAt } = event.data;
      const noMessages = MessageHistory.empty();
      return {
        status: 'CREATED',
        conversationId,
        kind,
        title,
        createdBy,
        createdAt,
        // Members arrive through the UserJoined events that follow, the creator's first.
        members: new Map(),
        lastMessagePosition: null,
        messageCount: 0,
        messageIds: noMessages.ids,
        messages: noMessages,
      };
    }
    case 'UserJoined': {
      const { userId, joinedAt } = event.data;
      if (state.status !== 'CREATED' || state.members.has(userId)) return state;
      const members = new Map(state.members).set(userId, { userId, joinedAt, readMarker: null });
      return { ...state, members };
    }
    case 'UserLeft': {
      const { userId } = event.data;
      if (state.status !== 'CREATED' || !state.members.has(userId)) return state;
      const members = new Map(state.members);
      members.delete(userId);
      return { ...state, members };
    }
    case 'MessageSent':
      return state.status === 'CREATED' ? withMessage(state, event, position) : state;
    case 'ReadMarkerMoved': {
      if (state.status !== 'CREATED') return state;
      const { userId, upTo } = event.data;
      return { ...state, members: withReadMarkerAtLeast(state.members, userId, upTo) };
    }
    default:
      // An event type this version does not know (a newer writer during a rolling deploy)
      // must not make the whole stream unreadable; it cannot change what this version decides.
      return ignoreUnknownEvent(event, state);
  }
}

export const conversationDecider: Decider<ConversationCommand, ConversationState, ConversationEvent> = {
  decide,
  evolve,
  initialState,
};

function createConversation({ data }: CreateConversation, state: ConversationState): ConversationEvent[] {
  const { conversationId, actorId, now } = data;
  assertUserId(actorId, 'actorId');
  assertConversationKind(data.kind);
  const title = normalizeTitle(data.title);
  const memberIds = normalizeMemberIds(data.memberIds, actorId);

  switch (data.kind) {
    case 'DIRECT':
      if (data.clientConversationId != null) {
        throw new InvalidClientConversationIdError('clientConversationId', 'clientConversationId is for GROUP conversations only (a DIRECT conversation is already one per pair)');
      }
      assertDirectConversation({ conversationId, actorId, title, memberIds, requested: data.memberIds });
      break;
    case 'GROUP':
      if (data.clientConversationId != null) {
        assertClientConversationId(data.clientConversationId);
        const expectedId = groupConversationIdFor(actorId, data.clientConversationId);
        if (conversationId !== expectedId) {
          throw new InvalidConversationIdError(
            'conversationId',
            `conversationId of a GROUP created with a clientConversationId must be groupConversationIdFor(actorId, clientConversationId) = "${expectedId}" (got ${describeValue(conversationId)})`,
          );
        }
      }
      if (!isGroupConversationId(conversationId)) {
        throw new InvalidConversationIdError(
          'conversationId',
          `conversationId of a GROUP conversation must be "g_" followed by 26 characters of [0-9a-z] (got ${describeValue(conversationId)})`,
        );
      }
      break;
    default:
      return unreachable(data.kind, 'conversation kind');
  }

  const existing = loadedConversation(state, conversationId);
  if (existing !== null) {
    // Both users of a pair "create" the same DIRECT conversation; the second simply gets it back.
    const sameDirectConversation =
      data.kind === 'DIRECT' &&
      existing.kind === 'DIRECT' &&
      existing.members.has(actorId) &&
      memberIds.every((memberId) => existing.members.has(memberId));
    // A GROUP created again with the creator's key (a retry after a lost reply): the first one stands.
    const sameGroupAgain = data.kind === 'GROUP' && data.clientConversationId != null && existing.kind === 'GROUP' && existing.createdBy === actorId;
    if (sameDirectConversation || sameGroupAgain) return [];
    throw new ConversationAlreadyExistsError(conversationId);
  }

  const joined = (userId: string): UserJoined => ({
    type: 'UserJoined',
    data: { conversationId, userId, joinedAt: now },
  });
  return [
    {
      type: 'ConversationCreated',
      data: { conversationId, kind: data.kind, title, createdBy: actorId, memberIds, createdAt: now },
    },
    joined(actorId),
    ...memberIds.map(joined),
  ];
}

function assertDirectConversation(candidate: {
  conversationId: string;
  actorId: string;
  title: string | null;
  memberIds: readonly string[];
  requested: readonly string[];
}): void {
  const { conversationId, actorId, title, memberIds, requested } = candidate;
  if (title !== null) {
    throw new DirectConversationTitleError(
      'title',
      `title must be null or absent for a DIRECT conversation (got ${describeValue(title)})`,
    );
  }
  if (memberIds.length === 0 && requested.includes(actorId)) {
    throw new DirectConversationWithSelfError(
      'memberIds',
      'memberIds of a DIRECT conversation must name a user other than yourself (got only your own id)',
    );
  }
  if (memberIds.length !== 1) {
    throw new DirectConversationMembersError(
      'memberIds',
      `memberIds of a DIRECT conversation must name exactly one other user once duplicates and your own id are removed (got ${memberIds.length})`,
    );
  }
  const expectedId = directConversationId(actorId, memberIds[0]);
  if (conversationId !== expectedId) {
    throw new DirectConversationIdMismatchError(
      'conversationId',
      `conversationId of a DIRECT conversation must be directConversationId(actorId, memberIds[0]) = "${expectedId}" (got ${describeValue(conversationId)})`,
    );
  }
}

function joinConversation({ data }: JoinConversation, state: ConversationState): ConversationEvent[] {
  const { conversationId, actorId, now } = data;
  assertUserId(actorId, 'actorId');
  const conversation = requireConversation(state, conversationId);
  if (conversation.kind === 'DIRECT') {
    // Outsiders must not learn that two users have a direct conversation.
    if (!conversation.members.has(actorId)) throw new ConversationNotFoundError(conversationId);
    throw new NotAGroupConversationError(
      'conversationId',
      'conversationId names a DIRECT conversation; only GROUP conversations can be joined',
    );
  }
  if (conversation.members.has(actorId)) return [];
  return [{ type: 'UserJoined', data: { conversationId, userId: actorId, joinedAt: now } }];
}

function leaveConversation({ data }: LeaveConversation, state: ConversationState): ConversationEvent[] {
  const { conversationId, actorId, now } = data;
  assertUserId(actorId, 'actorId');
  const { conversation } = requireMembership(state, conversationId, actorId);
  if (conversation.kind === 'DIRECT') {
    throw new NotAGroupConversationError(
      'conversationId',
      'conversationId names a DIRECT conversation; only GROUP conversations can be left',
    );
  }
  return [{ type: 'UserLeft', data: { conversationId, userId: actorId, leftAt: now } }];
}

function sendMessage({ data }: SendMessage, state: ConversationState): ConversationEvent[] {
  const { conversationId, actorId, clientMessageId, body, now } = data;
  assertUserId(actorId, 'actorId');
  assertClientMessageId(clientMessageId);
  assertMessageBody(body);
  const { conversation } = requireMembership(state, conversationId, actorId);
  const messageId = messageIdFor(conversationId, actorId, clientMessageId);
  // A retry of a message already in the stream: the caller answers with the original.
  if (conversation.messageIds.has(messageId)) return [];
  return [
    {
      type: 'MessageSent',
      data: { conversationId, messageId, clientMessageId, senderId: actorId, body, sentAt: now, seq: conversation.messageCount + 1 },
    },
  ];
}

function markRead({ data }: MarkRead, state: ConversationState): ConversationEvent[] {
  const { conversationId, actorId, upTo, now } = data;
  assertUserId(actorId, 'actorId');
  assertLogPosition(upTo, 'upTo');
  const { conversation, member } = requireMembership(state, conversationId, actorId);
  const last = conversation.lastMessagePosition;
  // A conversation is one stream keyed by its id, so all of its messages share one partition.
  if (last !== null && upTo.partition !== last.partition) {
    throw new ReadMarkerOutOfRangeError(
      'upTo',
      `upTo must point at a message of this conversation, whose messages are in partition ${last.partition} (got partition ${upTo.partition})`,
    );
  }
  if (member.readMarker !== null && comparePositions(upTo, member.readMarker) <= 0) return [];
  if (last === null) {
    throw new ReadMarkerOutOfRangeError(
      'upTo',
      'upTo must point at a message of this conversation, and it has no messages yet',
    );
  }
  if (comparePositions(upTo, last) > 0) {
    throw new ReadMarkerOutOfRangeError(
      'upTo',
      `upTo must point at a message of this conversation; its last message is at offset ${last.offset} (got offset ${upTo.offset})`,
    );
  }
  // Its number: counted back from the last message within the window of latest messages, or
  // the read model's (looked up by the command service) when the window does not reach back.
  const newer = conversation.messages.countAfter(upTo);
  const upToSeq = newer === null ? data.upToSeq : conversation.messageCount - newer;
  return [{ type: 'ReadMarkerMoved', data: { conversationId, userId: actorId, upTo, movedAt: now, ...(upToSeq === undefined ? {} : { upToSeq }) } }];
}

/** The created conversation the state holds, or null; throws if the state belongs to another stream. */
function loadedConversation(state: ConversationState, conversationId: string): CreatedConversation | null {
  if (state.status !== 'CREATED') return null;
  if (state.conversationId !== conversationId) {
    throw new Error(
      `decide got the state of conversation ${describeValue(state.conversationId)} for a command on ${describeValue(conversationId)}: the caller loaded the wrong stream`,
    );
  }
  return state;
}

function requireConversation(state: ConversationState, conversationId: string): CreatedConversation {
  const conversation = isConversationId(conversationId) ? loadedConversation(state, conversationId) : null;
  if (conversation === null) throw new ConversationNotFoundError(conversationId);
  return conversation;
}

function requireMembership(
  state: ConversationState,
  conversationId: string,
  userId: string,
): { conversation: CreatedConversation; member: ConversationMember } {
  const conversation = requireConversation(state, conversationId);
  const member = conversation.members.get(userId);
  if (member === undefined) throw new ConversationNotFoundError(conversationId);
  return { conversation, member };
}

function withMessage(state: CreatedConversation, { data }: MessageSent, position?: LogPosition): CreatedConversation {
  const { messageId, clientMessageId, senderId, body, sentAt } = data;
  if (state.messages.has(messageId)) return state;
  const message: SentMessage = { messageId, clientMessageId, senderId, body, sentAt, position: position ?? null };
  const messages = state.messages.with(message);
  const messageIds = messages.ids;
  const messageCount = data.seq ?? state.messageCount + 1;
  if (position === undefined) return { ...state, messages, messageIds, messageCount };
  return {
    ...state,
    messages,
    messageIds,
    messageCount,
    lastMessagePosition: laterPosition(state.lastMessagePosition, position),
    // Whoever sends a message has read the conversation up to it.
    members: withReadMarkerAtLeast(state.members, senderId, position),
  };
}

function withReadMarkerAtLeast(
  members: ReadonlyMap<string, ConversationMember>,
  userId: string,
  position: LogPosition,
): ReadonlyMap<string, ConversationMember> {
  const member = members.get(userId);
  if (member === undefined) return members;
  const readMarker = laterPosition(member.readMarker, position);
  if (readMarker === member.readMarker) return members;
  // Map#set on an existing key keeps its place, so join order is preserved.
  return new Map(members).set(userId, { ...member, readMarker });
}

function ignoreUnknownEvent(_event: never, state: ConversationState): ConversationState {
  return state;
}
