import type { LogPosition } from '@parley/domain';
import { createHash } from 'node:crypto';

/**
 * The public Cursor: opaque to clients, stable across rebuilds (it is a log position).
 * `m1.<partition>.<offset>.<tag>` in base64url, where tag fingerprints the conversation so a
 * cursor from another conversation is recognised.
 */
const hashTag = (conversationId: string) => createHash('sha256').update(conversationId).digest('hex').slice(0, 8);

/** Tags by conversation id (a cursor is made per message, mostly for a few busy conversations); cleared when full. */
export const CURSOR_TAGS_CACHED = 10_000;
const tags = new Map<string, string>();
function tagOf(conversationId: string): string {
  let tag = tags.get(conversationId);
  if (tag === undefined) {
    tag = hashTag(conversationId);
    if (tags.size >= CURSOR_TAGS_CACHED) tags.clear();
    tags.set(conversationId, tag);
  }
  return tag;
}

export function encodeCursor(position: LogPosition, conversationId: string): string {
  return Buffer.from(`m1.${position.partition}.${position.offset}.${tagOf(conversationId)}`).toString('base64url');
}

export interface DecodedCursor extends LogPosition {
  readonly tag: string;
}

export function decodeCursor(cursor: string): DecodedCursor | undefined {
  if (typeof cursor !== 'string' || cursor.length > 100) return undefined;
  const match = /^m1\.(\d{1,5})\.(\d{1,19})\.([0-9a-f]{8})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? { partition: Number(match[1]), offset: match[2], tag: match[3] } : undefined;
}

export function cursorBelongsTo(cursor: DecodedCursor, conversationId: string): boolean {
  return cursor.tag === tagOf(conversationId);
}
