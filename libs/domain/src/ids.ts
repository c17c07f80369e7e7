import { createHash } from 'node:crypto';

/**
 * Id formats from the public API contract.
 *
 * Derived ids (direct conversations, messages) are `prefix` + the first 26 characters of the
 * SHA-256 digest of their inputs, encoded as RFC 4648 base32 in lower case without padding
 * (alphabet `a-z2-7`): 26 characters carry 130 bits of the digest, and the result stays inside
 * the `[0-9a-z]` alphabet that group ids (lower-case ULIDs) use.
 */

export const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const CLIENT_CONVERSATION_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const GROUP_CONVERSATION_ID_PATTERN = /^g_[0-9a-z]{26}$/;
export const DIRECT_CONVERSATION_ID_PATTERN = /^d_[a-z2-7]{26}$/;
export const MESSAGE_ID_PATTERN = /^m_[a-z2-7]{26}$/;

const DERIVED_ID_LENGTH = 26;
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID_PATTERN.test(value);
}

export function isClientMessageId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_MESSAGE_ID_PATTERN.test(value);
}

export function isClientConversationId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_CONVERSATION_ID_PATTERN.test(value);
}

export function isGroupConversationId(value: unknown): value is string {
  return typeof value === 'string' && GROUP_CONVERSATION_ID_PATTERN.test(value);
}

export function isDirectConversationId(value: unknown): value is string {
  return typeof value === 'string' && DIRECT_CONVERSATION_ID_PATTERN.test(value);
}

export function isConversationId(value: unknown): value is string {
  return isGroupConversationId(value) || isDirectConversationId(value);
}

export function isMessageId(value: unknown): value is string {
  return typeof value === 'string' && MESSAGE_ID_PATTERN.test(value);
}

/**
 * The one conversation id two users share, whichever of them asks first. Sorting by UTF-16
 * code unit is plain ASCII order for valid user ids, so every runtime agrees on it.
 */
export function directConversationId(userA: string, userB: string): string {
  return `d_${derivedIdBody([userA, userB].sort())}`;
}

/** Deterministic so that a creator retrying with the same clientConversationId lands on the same group. */
export function groupConversationIdFor(creatorId: string, clientConversationId: string): string {
  return `g_${derivedIdBody(['group', creatorId, clientConversationId])}`;
}

/** Deterministic so that a client retrying with the same clientMessageId lands on the same message. */
export function messageIdFor(conversationId: string, senderId: string, clientMessageId: string): string {
  return `m_${derivedIdBody([conversationId, senderId, clientMessageId])}`;
}

function derivedIdBody(parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\n'), 'utf8').digest();
  return base32Lowercase(digest).slice(0, DERIVED_ID_LENGTH);
}

function base32Lowercase(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bufferedBits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bufferedBits += 8;
    while (bufferedBits >= 5) {
      bufferedBits -= 5;
      output += BASE32_ALPHABET[(buffer >>> bufferedBits) & 0b11111];
    }
  }
  if (bufferedBits > 0) output += BASE32_ALPHABET[(buffer << (5 - bufferedBits)) & 0b11111];
  return output;
}
