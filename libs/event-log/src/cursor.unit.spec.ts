import { createHash } from 'node:crypto';
import { CURSOR_TAGS_CACHED, cursorBelongsTo, decodeCursor, encodeCursor } from './cursor';

describe('message cursors', () => {
  const conversation = 'g_0123456789abcdefghijklmnop';

  it('round-trips a log position, offsets beyond 2^53 included', () => {
    const cursor = encodeCursor({ partition: 7, offset: '9007199254740993' }, conversation);
    expect(decodeCursor(cursor)).toMatchObject({ partition: 7, offset: '9007199254740993' });
  });

  it('recognises a cursor of another conversation', () => {
    const cursor = decodeCursor(encodeCursor({ partition: 1, offset: '5' }, conversation))!;
    expect(cursorBelongsTo(cursor, conversation)).toBe(true);
    expect(cursorBelongsTo(cursor, 'g_zzzzzzzzzzzzzzzzzzzzzzzzzz')).toBe(false);
  });

  it('tags cursors with the sha256 fingerprint of the conversation, the same once remembered and after the memo is full', () => {
    const tag = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 8);
    const encoded = (id: string) => Buffer.from(`m1.2.42.${tag(id)}`).toString('base64url');
    expect(encodeCursor({ partition: 2, offset: '42' }, conversation)).toBe(encoded(conversation));
    expect(encodeCursor({ partition: 2, offset: '42' }, conversation)).toBe(encoded(conversation));
    const ids = Array.from({ length: CURSOR_TAGS_CACHED + 1 }, (_, i) => `g_${i}`);
    expect(ids.filter((id) => decodeCursor(encodeCursor({ partition: 2, offset: '42' }, id))!.tag !== tag(id))).toEqual([]);
    expect(encodeCursor({ partition: 2, offset: '42' }, conversation)).toBe(encoded(conversation));
    expect(cursorBelongsTo(decodeCursor(encoded('g_1'))!, 'g_1')).toBe(true);
  });

  it.each(['', 'garbage', Buffer.from('m1.1.x.abcdef12').toString('base64url'), 'x'.repeat(200)])('rejects the malformed cursor %j', (cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
