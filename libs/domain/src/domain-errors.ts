/**
 * How the edge (GraphQL, WebSocket) should report a rejection. The domain never picks
 * a transport status itself; it only says which of these a rejection is.
 */
export type DomainErrorKind = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN';

/**
 * A command rejected by a business rule. `code` is stable and safe to branch on in clients;
 * `message` is for the client developer and names the field and the rule that was broken.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly kind: DomainErrorKind;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Rejections caused by a malformed command; `field` is the path of the offending input, e.g. `memberIds[2]`. */
export abstract class BadUserInputError extends DomainError {
  readonly kind = 'BAD_USER_INPUT' as const;

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class InvalidUserIdError extends BadUserInputError {
  readonly code = 'USER.INVALID_ID' as const;
}

export class InvalidConversationIdError extends BadUserInputError {
  readonly code = 'CONVERSATION.INVALID_ID' as const;
}

export class InvalidConversationKindError extends BadUserInputError {
  readonly code = 'CONVERSATION.INVALID_KIND' as const;
}

export class InvalidTitleError extends BadUserInputError {
  readonly code = 'CONVERSATION.INVALID_TITLE' as const;
}

export class InvalidMemberIdsError extends BadUserInputError {
  readonly code = 'CONVERSATION.INVALID_MEMBER_IDS' as const;
}

export class DirectConversationMembersError extends BadUserInputError {
  readonly code = 'CONVERSATION.DIRECT_NEEDS_ONE_OTHER_MEMBER' as const;
}

export class DirectConversationWithSelfError extends BadUserInputError {
  readonly code = 'CONVERSATION.DIRECT_WITH_SELF' as const;
}

export class DirectConversationTitleError extends BadUserInputError {
  readonly code = 'CONVERSATION.DIRECT_TITLE_NOT_ALLOWED' as const;
}

export class DirectConversationIdMismatchError extends BadUserInputError {
  readonly code = 'CONVERSATION.DIRECT_ID_MISMATCH' as const;
}

export class NotAGroupConversationError extends BadUserInputError {
  readonly code = 'CONVERSATION.NOT_A_GROUP' as const;
}

export class InvalidClientConversationIdError extends BadUserInputError {
  readonly code = 'CONVERSATION.INVALID_CLIENT_CONVERSATION_ID' as const;
}

export class InvalidClientMessageIdError extends BadUserInputError {
  readonly code = 'MESSAGE.INVALID_CLIENT_MESSAGE_ID' as const;
}

export class InvalidMessageBodyError extends BadUserInputError {
  readonly code = 'MESSAGE.INVALID_BODY' as const;
}

export class InvalidLogPositionError extends BadUserInputError {
  readonly code = 'READ_MARKER.INVALID_POSITION' as const;
}

export class ReadMarkerOutOfRangeError extends BadUserInputError {
  readonly code = 'READ_MARKER.OUT_OF_RANGE' as const;
}

/**
 * Also thrown when the conversation exists but the actor is not a member: the answer must
 * be identical to "does not exist" so that membership cannot be probed. Direct conversation
 * ids are derivable from two user ids, so anything else would reveal who talks to whom.
 */
export class ConversationNotFoundError extends DomainError {
  readonly code = 'CONVERSATION.NOT_FOUND' as const;
  readonly kind = 'NOT_FOUND' as const;

  constructor(readonly conversationId: string) {
    super(`conversation ${describeValue(conversationId)} was not found`);
  }
}

export class ConversationAlreadyExistsError extends DomainError {
  readonly code = 'CONVERSATION.ALREADY_EXISTS' as const;
  readonly kind = 'CONFLICT' as const;

  constructor(readonly conversationId: string) {
    super(`conversationId ${describeValue(conversationId)} is already used by another conversation`);
  }
}

const MAX_DESCRIBED_LENGTH = 80;

/** Renders a rejected input for an error message without echoing megabytes of it back. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value !== 'string') return `a value of type ${typeof value}`;
  const codePoints = [...value];
  if (codePoints.length <= MAX_DESCRIBED_LENGTH) return JSON.stringify(value);
  return `${JSON.stringify(codePoints.slice(0, MAX_DESCRIBED_LENGTH).join(''))}…`;
}
