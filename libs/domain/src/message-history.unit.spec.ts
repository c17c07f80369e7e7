import type { SentMessage } from './conversation.state';
import { MessageHistory } from './message-history';

function message(messageId: string, body = `body of ${messageId}`): SentMessage {
  return { messageId, clientMessageId: `c-${messageId}`, senderId: 'alice', body, sentAt: 'now', position: null };
}

const contents = (history: ReadonlyMap<string, SentMessage>) => [...history].map(([id, { body }]) => [id, body]);

describe('MessageHistory', () => {
  it('starts empty', () => {
    const history = MessageHistory.empty();
    expect(history.size).toBe(0);
    expect([...history]).toStrictEqual([]);
    expect(history.has('m1')).toBe(false);
  });

  it('keeps messages in the order they were added, by id', () => {
    const history = MessageHistory.empty().with(message('m1')).with(message('m2'));
    expect(history.size).toBe(2);
    expect([...history.keys()]).toStrictEqual(['m1', 'm2']);
    expect([...history.values()].map((each) => each.messageId)).toStrictEqual(['m1', 'm2']);
    expect(history.get('m2')).toStrictEqual(message('m2'));
    expect(history.get('m3')).toBeUndefined();
  });

  it('keeps the first message of an id and returns itself for a second', () => {
    const history = MessageHistory.empty().with(message('m1', 'first'));
    expect(history.with(message('m1', 'second'))).toBe(history);
    expect(history.get('m1')?.body).toBe('first');
  });

  it('never shows a version what was added to a later one', () => {
    const older = MessageHistory.empty().with(message('m1'));
    const newer = older.with(message('m2'));
    expect(older.size).toBe(1);
    expect(older.has('m2')).toBe(false);
    expect(contents(older)).toStrictEqual([['m1', 'body of m1']]);
    expect(newer.has('m2')).toBe(true);
  });

  it('lets an older version branch without disturbing the newer one', () => {
    const older = MessageHistory.empty().with(message('m1'));
    const newer = older.with(message('m2', 'on the main line'));
    const branch = older.with(message('m2', 'on the branch')).with(message('m3'));
    expect(contents(newer)).toStrictEqual([
      ['m1', 'body of m1'],
      ['m2', 'on the main line'],
    ]);
    expect(contents(branch)).toStrictEqual([
      ['m1', 'body of m1'],
      ['m2', 'on the branch'],
      ['m3', 'body of m3'],
    ]);
    expect(contents(newer.with(message('m4')))).toStrictEqual([...contents(newer), ['m4', 'body of m4']]);
    expect(contents(older)).toStrictEqual([['m1', 'body of m1']]);
  });

  it('lets a branch re-add an id that only a later version has', () => {
    const older = MessageHistory.empty();
    older.with(message('m1', 'later'));
    const branch = older.with(message('m1', 'branch'));
    expect(branch.get('m1')?.body).toBe('branch');
  });

  it('offers its ids as a set', () => {
    const older = MessageHistory.empty().with(message('m1'));
    const newer = older.with(message('m2'));
    const ids = newer.ids;
    expect(ids.size).toBe(2);
    expect(ids.has('m2')).toBe(true);
    expect(older.ids.has('m2')).toBe(false);
    expect([...ids]).toStrictEqual(['m1', 'm2']);
    expect([...ids.values()]).toStrictEqual(['m1', 'm2']);
    expect([...ids.entries()]).toStrictEqual([
      ['m1', 'm1'],
      ['m2', 'm2'],
    ]);
    const seen: string[] = [];
    ids.forEach((id) => seen.push(id));
    expect(seen).toStrictEqual(['m1', 'm2']);
  });

  it('iterates with forEach like a Map', () => {
    const history = MessageHistory.empty().with(message('m1')).with(message('m2'));
    const seen: string[] = [];
    history.forEach((each, id) => seen.push(`${id}:${each.body}`));
    expect(seen).toStrictEqual(['m1:body of m1', 'm2:body of m2']);
  });

  it('appends in constant time and keeps only the latest messages, so replaying a long conversation stays linear and small', () => {
    let history = MessageHistory.empty(64);
    for (let index = 0; index < 50_000; index++) history = history.with({ ...message(`m${index}`), position: { partition: 0, offset: String(index) } });
    expect(history.size).toBe(64);
    expect(history.get('m49999')?.messageId).toBe('m49999');
    expect(history.get('m49936')?.messageId).toBe('m49936');
    expect(history.has('m49935')).toBe(false);
    expect(history.hasEvicted).toBe(true);
    expect(history.evictedThrough).toEqual({ partition: 0, offset: '49935' });
  });

  it('says nothing slid out while the window is not full', () => {
    let history = MessageHistory.empty(3);
    for (const id of ['m1', 'm2', 'm3']) history = history.with(message(id));
    expect([history.hasEvicted, history.evictedThrough]).toEqual([false, null]);
    history = history.with(message('m4'));
    expect([...history.keys()]).toEqual(['m2', 'm3', 'm4']);
    expect(history.hasEvicted).toBe(true);
    expect(history.has('m1')).toBe(false);
  });

  it('keeps versions up to its capacity behind the newest intact while it drops old messages', () => {
    const versions = [MessageHistory.empty(4)];
    for (let index = 0; index < 40; index++) versions.push(versions.at(-1)!.with(message(`m${index}`)));
    const older = versions.at(-5)!; // 4 appends behind
    expect([...older.keys()]).toEqual(['m32', 'm33', 'm34', 'm35']);
    expect([...older.with(message('x')).keys()]).toEqual(['m33', 'm34', 'm35', 'x']);
    expect([...versions.at(-1)!.keys()]).toEqual(['m36', 'm37', 'm38', 'm39']);
  });
});
