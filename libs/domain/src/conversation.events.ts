import type { LogPosition } from './log-position';

export type ConversationKind = 'DIRECT' | 'GROUP';

/** All timestamps are ISO-8601 strings taken from the command's `now`. */

export type ConversationCreated = {
  readonly type: 'ConversationCreated';
  readonly data: {
    readonly conversationId: string;
    readonly kind: ConversationKind;
    readonly title: string | null;
    readonly createdBy: string;
    /** The other initial members, normalized: validated, deduplicated, creator removed, order kept. */
    readonly memberIds: readonly string[];
    readonly createdAt: string;
  };
};

export type UserJoined = {
  readonly type: 'UserJoined';
  readonly data: {
    readonly conversationId: string;
    readonly userId: string;
    readonly joinedAt: string;
  };
};

export type UserLeft = {
  readonly type: 'UserLeft';
  readonly data: {
    readonly conversationId: string;
    readonly userId: string;
    readonly leftAt: string;
  };
};

export type MessageSent = {
  readonly type: 'MessageSent';
  readonly data: {
    readonly conversationId: string;
    /** messageIdFor(conversationId, senderId, clientMessageId): a retry yields the same key. */
    readonly messageId: string;
    readonly clientMessageId: string;
    readonly senderId: string;
    readonly body: string;
    readonly sentAt: string;
    /**
     * The message's number in its conversation: 1, 2, 3... with no gap, assigned by the
     * partition's writer. Absent in events written before it was recorded (their readers count).
     */
    readonly seq?: number;
  };
};

export type ReadMarkerMoved = {
  readonly type: 'ReadMarkerMoved';
  readonly data: {
    readonly conversationId: string;
    readonly userId: string;
    readonly upTo: LogPosition;
    readonly movedAt: string;
    /**
     * The number (MessageSent.seq) of the last message at or before `upTo`, 0 when there is
     * none: what the read marker counts as read. Decided by the partition's writer; absent in
     * markers recorded before 2026-12-03 (readers then find it from the messages' numbers).
     */
    readonly upToSeq?: number;
  };
};

export type ConversationEvent = ConversationCreated | UserJoined | UserLeft | MessageSent | ReadMarkerMoved;

export type ConversationEventType = ConversationEvent['type'];

// A Record keyed by the union makes the compiler reject this list when an event type is added or renamed.
const CONVERSATION_EVENT_TYPE_SET: Readonly<Record<ConversationEventType, true>> = {
  ConversationCreated: true,
  UserJoined: true,
  UserLeft: true,
  MessageSent: true,
  ReadMarkerMoved: true,
};

export const CONVERSATION_EVENT_TYPES: readonly ConversationEventType[] = Object.freeze(
  Object.keys(CONVERSATION_EVENT_TYPE_SET) as ConversationEventType[],
);

export function isConversationEventType(type: unknown): type is ConversationEventType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(CONVERSATION_EVENT_TYPE_SET, type);
}
