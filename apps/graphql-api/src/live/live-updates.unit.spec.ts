import { PushIterator } from './live-updates';

const drain = async <T>(iterator: PushIterator<T>, n: number): Promise<T[]> => {
  const values: T[] = [];
  for (let i = 0; i < n; i++) values.push((await iterator.next()).value as T);
  return values;
};

describe('PushIterator: what waits for a slow consumer is bounded', () => {
  it('keeps everything, in order, without a policy', async () => {
    const iterator = new PushIterator<number>(() => undefined);
    for (let i = 0; i < 5; i++) iterator.push(i);
    expect(await drain(iterator, 5)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps the newest value per key, in the place of the first', async () => {
    const iterator = new PushIterator<{ user: string; online: boolean } | 'left'>(() => undefined, { key: (v) => (v === 'left' ? undefined : v.user) });
    iterator.push({ user: 'a', online: true });
    iterator.push({ user: 'b', online: true });
    iterator.push('left');
    iterator.push({ user: 'a', online: false });
    iterator.push('left');
    expect(await drain(iterator, 4)).toEqual([{ user: 'a', online: false }, { user: 'b', online: true }, 'left', 'left']);
    iterator.push({ user: 'a', online: true }); // taken: a new place
    expect(await drain(iterator, 1)).toEqual([{ user: 'a', online: true }]);
  });

  it('replaces everything waiting with the overflow value beyond the limit, then queues again', async () => {
    const iterator = new PushIterator<string>(() => undefined, { limit: 3, overflow: () => 'resync' });
    for (const v of ['1', '2', '3', '4', '5']) iterator.push(v);
    expect(await drain(iterator, 2)).toEqual(['resync', '5']);
  });

  it('hands a value to a waiting consumer directly, and ends at once on return()', async () => {
    let returned = 0;
    const iterator = new PushIterator<number>(() => returned++, { limit: 1, overflow: () => -1 });
    const waiting = iterator.next();
    iterator.push(7);
    expect(await waiting).toEqual({ value: 7, done: false });
    const pending = iterator.next();
    await iterator.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    iterator.push(8);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
  });
});
