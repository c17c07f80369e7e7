import type { PresenceView } from '../presence';
import type { ConversationSignal } from './live-updates';
import { presenceFeed } from './presence-feed';

const GROUP = 'g_01jnfx3c9m8q2v7k4x6b5n1t0r';
const online = (userId: string): PresenceView => ({ userId, online: true, lastSeenAt: null });

/** Presence heard by the instance, and the conversation's channel. */
class Live {
  presence?: (view: PresenceView) => void;
  conversation?: (signal: ConversationSignal) => void;
  listening = 0;
  /** When bob joined, as the conversation's writer holds it (null: not a member). */
  bobJoinedAt: string | null = '2026-12-03T09:00:00.000Z';

  listen(_topic: 'presence', _key: string, listener: (view: PresenceView) => void): () => void {
    this.presence = listener;
    this.listening++;
    return () => this.listening--;
  }

  async follow(_id: string, listener: (signal: ConversationSignal) => void): Promise<() => void> {
    this.conversation = listener;
    this.listening++;
    return () => this.listening--;
  }
}

type Item = { userId: string } | 'ended';

async function feedOf(live: Live, members: string[]) {
  return presenceFeed<Item>({
    live: live as never,
    conversationId: GROUP,
    viewerId: 'bob',
    isMember: async (userId) => members.includes(userId),
    membership: async () => live.bobJoinedAt,
    toPayload: (p) => ({ userId: p.userId }),
    toEnd: () => 'ended',
  });
}

describe('presenceFeed', () => {
  it("passes on members' presence in order and drops non-members'", async () => {
    const live = new Live();
    const feed = await feedOf(live, ['alice', 'carol']);
    live.presence!(online('alice'));
    live.presence!(online('mallory'));
    live.presence!(online('carol'));
    expect([(await feed.next()).value, (await feed.next()).value]).toEqual([{ userId: 'alice' }, { userId: 'carol' }]);
    await feed.return!();
  });

  it('ends when the viewer leaves, after what came before, and stops listening', async () => {
    const live = new Live();
    const feed = await feedOf(live, ['alice']);
    live.presence!(online('alice'));
    live.conversation!({ kind: 'left', conversationId: GROUP, userId: 'carol', offset: '5' }); // someone else
    live.conversation!({ kind: 'left', conversationId: GROUP, userId: 'bob', offset: '7' });
    live.presence!(online('alice'));
    expect(await feed.next()).toEqual({ value: { userId: 'alice' }, done: false });
    expect(await feed.next()).toEqual({ value: 'ended', done: false });
    expect(await feed.next()).toEqual({ value: undefined, done: true });
    expect(live.listening).toBe(0);
  });

  it('ends at once when the writer says the viewer is no longer a member once it listens', async () => {
    const live = new Live();
    live.bobJoinedAt = null; // left before the feed listened: its `left` is not heard
    const feed = await feedOf(live, ['alice']);
    live.presence!(online('alice'));
    expect(await feed.next()).toEqual({ value: 'ended', done: false });
    expect(await feed.next()).toEqual({ value: undefined, done: true });
    expect(live.listening).toBe(0);
  });

  it('after the channel was lost for a moment, ends if the viewer left meanwhile and goes on if not', async () => {
    const live = new Live();
    const feed = await feedOf(live, ['alice']);
    live.conversation!({ kind: 'resync' });
    live.presence!(online('alice'));
    expect(await feed.next()).toEqual({ value: { userId: 'alice' }, done: false });
    live.bobJoinedAt = null; // the `left` went while the channel was down
    live.conversation!({ kind: 'resync' });
    live.presence!(online('alice'));
    expect(await feed.next()).toEqual({ value: 'ended', done: false });
    expect(await feed.next()).toEqual({ value: undefined, done: true });
    expect(live.listening).toBe(0);
  });

  it('stops listening when the subscriber goes, even while waiting', async () => {
    const live = new Live();
    const feed = await feedOf(live, ['alice']);
    const waiting = feed.next();
    await feed.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(live.listening).toBe(0);
  });
});
