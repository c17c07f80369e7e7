import { cursorBelongsTo, decodeCursor, encodeCursor } from './cursor';

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

  it.each(['', 'garbage', Buffer.from('m1.1.x.abcdef12').toString('base64url'), 'x'.repeat(200)])('rejects the malformed cursor %j', (cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
