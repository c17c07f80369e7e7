import type { ConversationKind } from './conversation.events';
import type { LogPosition } from './log-position';
import type { MessageHistory } from './message-history';

export type ConversationState = NotCreatedConversation | CreatedConversation;

/** The state of a stream with no ConversationCreated in it: unknown ids and malformed ids alike. */
export type NotCreatedConversation = {
  readonly status: 'NOT_CREATED';
};

export type CreatedConversation = {
  readonly status: 'CREATED';
  readonly conversationId: string;
  readonly kind: ConversationKind;
  readonly title: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  /** Iterates in join order; a member who leaves and rejoins moves to the end. */
  readonly members: ReadonlyMap<string, ConversationMember>;
  /** Null until a MessageSent has been applied together with its log position. */
  readonly lastMessagePosition: LogPosition | null;
  /** How many messages the conversation has: the last one's `seq`. */
  readonly messageCount: number;
  /** The ids of `messages`: what SendMessage checks to recognise a retry. */
  readonly messageIds: ReadonlySet<string>;
  /**
   * The latest messages (RECENT_MESSAGES), in log order, so that a retry of one of them is
   * answered with the original from memory; the state stays the same size however long the
   * conversation. A retry of an older one (`messages.hasEvicted`) is for the caller to find
   * in the read model before deciding (the command service does).
   */
  readonly messages: MessageHistory;
};

export type ConversationMember = {
  readonly userId: string;
  readonly joinedAt: string;
  /** Everything up to and including this position has been read; null when nothing has. */
  readonly readMarker: LogPosition | null;
};

export type SentMessage = {
  readonly messageId: string;
  readonly clientMessageId: string;
  readonly senderId: string;
  readonly body: string;
  readonly sentAt: string;
  /** Null when the MessageSent was applied without a position (e.g. in a pure test). */
  readonly position: LogPosition | null;
};

export function isMember(state: ConversationState, userId: string): boolean {
  return state.status === 'CREATED' && state.members.has(userId);
}

export function membersInJoinOrder(state: ConversationState): ConversationMember[] {
  return state.status === 'CREATED' ? [...state.members.values()] : [];
}

export function findMessage(state: ConversationState, messageId: string): SentMessage | undefined {
  return state.status === 'CREATED' ? state.messages.get(messageId) : undefined;
}
