import type { InboxChange, InboxHeadChange } from './live-updates';
import { inboxFeed } from './inbox-feed';

/** What the projector announces, as an API instance hears it. */
class Live {
  private readonly listeners = new Map<string, Set<(value: never) => void>>();

  listen(topic: 'inbox' | 'inbox-head', key: string, listener: (value: never) => void): () => void {
    const id = `${topic}:${key}`;
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener);
    this.listeners.set(id, set);
    return () => set.delete(listener);
  }

  own(change: InboxChange): void {
    for (const l of this.listeners.get(`inbox:${change.userId}`) ?? []) (l as (c: InboxChange) => void)(change);
  }

  head(conversationId: string): void {
    const change: InboxHeadChange = { kind: 'inbox-head', conversationId };
    for (const l of this.listeners.get(`inbox-head:${conversationId}`) ?? []) (l as (c: InboxHeadChange) => void)(change);
  }

  get listening(): number {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }
}

const feedOf = (live: Live, inbox: string[]) =>
  inboxFeed({ live: live as never, userId: 'bob', conversationIds: async () => inbox, toPayload: async (id) => ({ id }) });

describe('inboxFeed', () => {
  it("passes on the heads of the user's conversations, not of others", async () => {
    const live = new Live();
    const feed = await feedOf(live, ['g1', 'g2']);
    live.head('g2');
    live.head('elsewhere');
    live.head('g1');
    expect([(await feed.next()).value, (await feed.next()).value]).toEqual([{ id: 'g2' }, { id: 'g1' }]);
    await feed.return!();
  });

  it('follows a conversation the user joins and stops following one the user leaves (a removal is not sent)', async () => {
    const live = new Live();
    const feed = await feedOf(live, ['g1']);
    live.own({ kind: 'inbox', userId: 'bob', conversationId: 'g3', removed: false }); // joined
    live.own({ kind: 'inbox', userId: 'bob', conversationId: 'g1', removed: true }); // left
    live.head('g1');
    live.head('g3'); // waits once with the join: the entry is read when it is sent
    expect((await feed.next()).value).toEqual({ id: 'g3' });
    live.head('g3');
    expect((await feed.next()).value).toEqual({ id: 'g3' });
    await feed.return!();
  });

  it('keeps one pending change per conversation however often it changes before the subscriber reads (bounded by the inbox)', async () => {
    const live = new Live();
    const feed = await feedOf(live, ['g1', 'g2']);
    for (let i = 0; i < 1_000; i++) live.head(i % 3 === 0 ? 'g2' : 'g1');
    expect([(await feed.next()).value, (await feed.next()).value]).toEqual([{ id: 'g2' }, { id: 'g1' }]);
    live.head('g2');
    expect((await feed.next()).value).toEqual({ id: 'g2' });
    await feed.return!();
  });

  it('stops listening when the subscriber goes', async () => {
    const live = new Live();
    const feed = await feedOf(live, ['g1', 'g2']);
    const waiting = feed.next();
    await feed.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(live.listening).toBe(0);
  });
});
