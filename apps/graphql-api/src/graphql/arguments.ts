import type { InboxPosition } from '@parley/cassandra';
import { cursorBelongsTo, decodeCursor, type DecodedCursor } from '@parley/event-log';
import { badInput } from '../errors';

/** Arguments checked the same way by every operation: BAD_USER_INPUT naming the argument. */
export function pageSize(value: unknown, field: string, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw badInput(field, `${field} must be between 1 and ${max} (got ${JSON.stringify(value)})`);
  }
  return value as number;
}

/** A message cursor, which must belong to `conversationId`. */
export function messageCursor(value: unknown, field: string, conversationId: string): DecodedCursor | undefined {
  const cursor = anyCursor(value, field);
  if (cursor && !cursorBelongsTo(cursor, conversationId)) throw badInput(field, `${field} is a cursor of another conversation`);
  return cursor;
}

export function anyCursor(value: unknown, field: string): DecodedCursor | undefined {
  if (value === undefined || value === null) return undefined;
  const cursor = decodeCursor(String(value));
  if (!cursor) throw badInput(field, `${field} is not a valid cursor`);
  return cursor;
}

export const encodeInboxCursor = (p: InboxPosition) => Buffer.from(JSON.stringify([p.activityAt, String(p.activityOffset), p.conversationId])).toString('base64url');

export function decodeInboxCursor(value: unknown): InboxPosition | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    const [activityAt, offset, conversationId] = JSON.parse(Buffer.from(String(value), 'base64url').toString());
    if (typeof activityAt === 'string' && /^\d+$/.test(offset) && typeof conversationId === 'string') {
      return { activityAt, activityOffset: BigInt(offset), conversationId };
    }
  } catch {
    /* fall through */
  }
  throw badInput('after', 'after is not a valid inbox cursor');
}
