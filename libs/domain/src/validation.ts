import type { ConversationKind } from './conversation.events';
import {
  describeValue,
  InvalidClientConversationIdError,
  InvalidClientMessageIdError,
  InvalidConversationKindError,
  InvalidLogPositionError,
  InvalidMemberIdsError,
  InvalidMessageBodyError,
  InvalidTitleError,
  InvalidUserIdError,
} from './domain-errors';
import { isClientConversationId, isClientMessageId, isUserId } from './ids';
import type { LogPosition } from './log-position';

/*
 * Lengths are counted in Unicode code points ([...text].length), not UTF-16 code units,
 * so an emoji counts once, as the public API contract promises.
 * Commands reach the domain from untyped edges, hence the `unknown` parameters.
 */

export const MAX_BODY_CODE_POINTS = 4000;
export const MAX_TITLE_CODE_POINTS = 200;
export const MAX_INITIAL_MEMBER_IDS = 1000;

const ONLY_WHITE_SPACE = /^\p{White_Space}*$/u;
const KAFKA_OFFSET = /^(0|[1-9][0-9]{0,18})$/;
const MAX_KAFKA_OFFSET = 2n ** 63n - 1n;
const MAX_KAFKA_PARTITION = 2 ** 31 - 1;
const CONVERSATION_KINDS: readonly ConversationKind[] = ['DIRECT', 'GROUP'];

export function codePointLength(text: string): number {
  return [...text].length;
}

export function assertUserId(value: unknown, field: string): asserts value is string {
  if (!isUserId(value)) {
    throw new InvalidUserIdError(
      field,
      `${field} must be 1 to 64 characters of [A-Za-z0-9_.@-] (got ${describeValue(value)})`,
    );
  }
}

export function assertClientConversationId(value: unknown): asserts value is string {
  if (!isClientConversationId(value)) {
    throw new InvalidClientConversationIdError(
      'clientConversationId',
      `clientConversationId must be 1 to 128 characters of [A-Za-z0-9_.:-] (got ${describeValue(value)})`,
    );
  }
}

export function assertClientMessageId(value: unknown): asserts value is string {
  if (!isClientMessageId(value)) {
    throw new InvalidClientMessageIdError(
      'clientMessageId',
      `clientMessageId must be 1 to 64 characters of [A-Za-z0-9_-] (got ${describeValue(value)})`,
    );
  }
}

export function assertMessageBody(value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new InvalidMessageBodyError('body', `body must be a string (got ${describeValue(value)})`);
  }
  const length = codePointLength(value);
  if (length < 1 || length > MAX_BODY_CODE_POINTS) {
    throw new InvalidMessageBodyError(
      'body',
      `body must be 1 to ${MAX_BODY_CODE_POINTS} characters, counted as Unicode code points (got ${length})`,
    );
  }
  if (ONLY_WHITE_SPACE.test(value)) {
    throw new InvalidMessageBodyError(
      'body',
      'body must contain at least one character that is not Unicode White_Space (got only white space)',
    );
  }
}

export function assertConversationKind(value: unknown): asserts value is ConversationKind {
  if (!CONVERSATION_KINDS.includes(value as ConversationKind)) {
    throw new InvalidConversationKindError(
      'kind',
      `kind must be one of ${CONVERSATION_KINDS.join(', ')} (got ${describeValue(value)})`,
    );
  }
}

/** An absent or empty title means "no title"; anything else is kept exactly as the user typed it. */
export function normalizeTitle(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') {
    throw new InvalidTitleError('title', `title must be a string or null (got ${describeValue(value)})`);
  }
  const length = codePointLength(value);
  if (length > MAX_TITLE_CODE_POINTS) {
    throw new InvalidTitleError(
      'title',
      `title must be at most ${MAX_TITLE_CODE_POINTS} characters, counted as Unicode code points (got ${length})`,
    );
  }
  return value;
}

/**
 * The other initial members: every id validated, duplicates and the creator dropped, first
 * occurrences kept in the order given. The limit applies to the list as sent, before
 * normalization, because it bounds the work a single request may cause.
 */
export function normalizeMemberIds(memberIds: unknown, actorId: string): string[] {
  if (!Array.isArray(memberIds)) {
    throw new InvalidMemberIdsError(
      'memberIds',
      `memberIds must be an array of user ids (got ${describeValue(memberIds)})`,
    );
  }
  if (memberIds.length > MAX_INITIAL_MEMBER_IDS) {
    throw new InvalidMemberIdsError(
      'memberIds',
      `memberIds must have at most ${MAX_INITIAL_MEMBER_IDS} entries (got ${memberIds.length})`,
    );
  }
  const others = new Set<string>();
  memberIds.forEach((memberId: unknown, index) => {
    assertUserId(memberId, `memberIds[${index}]`);
    if (memberId !== actorId) others.add(memberId);
  });
  return [...others];
}

export function assertLogPosition(value: unknown, field: string): asserts value is LogPosition {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidLogPositionError(
      field,
      `${field} must be an object { partition, offset } (got ${describeValue(value)})`,
    );
  }
  const { partition, offset } = value as Partial<Record<keyof LogPosition, unknown>>;
  const partitionIsValid =
    typeof partition === 'number' && Number.isInteger(partition) && partition >= 0 && partition <= MAX_KAFKA_PARTITION;
  if (!partitionIsValid) {
    throw new InvalidLogPositionError(
      `${field}.partition`,
      `${field}.partition must be an integer from 0 to ${MAX_KAFKA_PARTITION} (got ${describeValue(partition)})`,
    );
  }
  if (typeof offset !== 'string' || !KAFKA_OFFSET.test(offset) || BigInt(offset) > MAX_KAFKA_OFFSET) {
    throw new InvalidLogPositionError(
      `${field}.offset`,
      `${field}.offset must be a decimal string of an integer from 0 to ${MAX_KAFKA_OFFSET} without leading zeros (got ${describeValue(offset)})`,
    );
  }
}
