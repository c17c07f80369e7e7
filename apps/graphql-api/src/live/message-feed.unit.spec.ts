import type { LiveMessage } from '@parley/redis';
import type { ConversationSignal } from './live-updates';
import { messageFeed, type FeedEnd, type TimelineSource } from './message-feed';

const GROUP = 'g_01jnfx3c9m8q2v7k4x6b5n1t0r';
/** Message number `seq` of the conversation, at offset 10 * seq. */
const msg = (seq: number): LiveMessage => ({
  conversationId: GROUP, id: `m${seq}`, clientMessageId: `c${seq}`, senderId: 'alice', body: `b${seq}`, sentAt: '2026-12-03T10:00:00.000Z',
  partition: 1, offset: String(10 * seq), seq,
});

/** The timeline (what was announced is in it) and the conversation's channel, as a feed sees them. */
class Conversation implements TimelineSource {
  readonly rows: LiveMessage[] = [];
  private listener?: (signal: ConversationSignal) => void;
  following = false;
  /** When bob joined, as the conversation's writer holds it (null: not a member). */
  bobJoinedAt: string | null = '2026-12-03T09:00:00.000Z';
  membershipAsked = 0;

  async membership(): Promise<string | null> {
    this.membershipAsked++;
    return this.bobJoinedAt;
  }

  async follow(_id: string, listener: (signal: ConversationSignal) => void): Promise<() => void> {
    this.listener = listener;
    this.following = true;
    return () => (this.following = false);
  }

  async head(): Promise<LiveMessage | null> {
    return this.rows.at(-1) ?? null;
  }

  async after(_id: string, offset: bigint, limit: number) {
    const later = this.rows.filter((m) => BigInt(m.offset) > offset);
    return { messages: later.slice(0, limit), more: later.length > limit };
  }

  /** Stored, then announced (as the writer does); `announce: false` for a notification lost on the way. */
  send(seq: number, { announce = true } = {}): void {
    this.rows.push(msg(seq));
    if (announce) this.listener!({ kind: 'message', message: msg(seq) });
  }

  signal(signal: ConversationSignal): void {
    this.listener!(signal);
  }
}

type Item = { seq: number } | { end: FeedEnd };

async function feedOf(conversation: Conversation, options: { after?: bigint; fillTimeoutMs?: number; queueLimit?: number } = {}) {
  const feed = await messageFeed<Item>({
    live: conversation,
    timeline: conversation,
    conversationId: GROUP,
    viewerId: 'bob',
    membership: () => conversation.membership(),
    ...options,
    toPayload: (m) => ({ seq: m.seq }),
    toEnd: (end) => ({ end }),
  });
  const take = async (n: number): Promise<Item[]> => {
    const items: Item[] = [];
    for (let i = 0; i < n; i++) {
      const { value, done } = await feed.next();
      if (done) break;
      items.push(value);
    }
    return items;
  };
  return { feed, take };
}

describe('messageFeed', () => {
  it('delivers messages from subscription on, dropping what it has delivered already', async () => {
    const conversation = new Conversation();
    conversation.send(1, { announce: false }); // before the subscription
    const { take } = await feedOf(conversation);
    conversation.send(2);
    conversation.signal({ kind: 'message', message: msg(2) }); // at-least-once: twice
    conversation.send(3);
    expect(await take(2)).toEqual([{ seq: 2 }, { seq: 3 }]);
  });

  it('after a cursor, delivers the history first, then live messages, with no gap and no duplicate', async () => {
    const conversation = new Conversation();
    for (const seq of [1, 2, 3]) conversation.send(seq, { announce: false });
    const { take } = await feedOf(conversation, { after: 10n });
    conversation.send(3 + 1);
    conversation.signal({ kind: 'message', message: msg(3) }); // announced late: in the history already
    conversation.send(5);
    expect(await take(4)).toEqual([{ seq: 2 }, { seq: 3 }, { seq: 4 }, { seq: 5 }]);
  });

  it('keeps at most queueLimit notifications for a slow subscriber, then catches it up from the timeline, skipping nothing', async () => {
    const conversation = new Conversation();
    const { take } = await feedOf(conversation, { queueLimit: 5 });
    conversation.send(1);
    expect(await take(1)).toEqual([{ seq: 1 }]);
    for (let seq = 2; seq <= 40; seq++) conversation.send(seq); // nobody reads meanwhile
    const membershipBefore = conversation.membershipAsked;
    expect(await take(39)).toEqual(Array.from({ length: 39 }, (_, i) => ({ seq: i + 2 })));
    expect(conversation.membershipAsked).toBeGreaterThan(membershipBefore); // caught up as after a resync
  });

  it('fills a gap from the timeline before delivering what follows it', async () => {
    const conversation = new Conversation();
    const { take } = await feedOf(conversation);
    conversation.send(1);
    conversation.send(2, { announce: false }); // lost between the writer and this instance
    conversation.send(3);
    expect(await take(3)).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
  });

  it('after a reconnection to Redis, delivers what was published meanwhile', async () => {
    const conversation = new Conversation();
    const { take } = await feedOf(conversation);
    conversation.send(1);
    conversation.send(2, { announce: false });
    conversation.signal({ kind: 'resync' });
    expect(await take(2)).toEqual([{ seq: 1 }, { seq: 2 }]);
  });

  it('ends telling the subscriber to resume after its last message when a gap cannot be filled in time', async () => {
    const conversation = new Conversation();
    const { feed, take } = await feedOf(conversation, { fillTimeoutMs: 100 });
    conversation.send(1);
    conversation.signal({ kind: 'message', message: msg(3) }); // 2 is nowhere to be found
    expect(await take(2)).toEqual([{ seq: 1 }, { end: { reason: 'resume', after: msg(1) } }]);
    expect(await feed.next()).toEqual({ value: undefined, done: true });
    expect(conversation.following).toBe(false);
  });

  it('ends when the viewer leaves, before any later message', async () => {
    const conversation = new Conversation();
    const { feed, take } = await feedOf(conversation);
    conversation.send(1);
    conversation.signal({ kind: 'left', conversationId: GROUP, userId: 'carol', offset: '11' }); // someone else
    conversation.signal({ kind: 'left', conversationId: GROUP, userId: 'bob', offset: '12' });
    conversation.send(2);
    expect(await take(2)).toEqual([{ seq: 1 }, { end: { reason: 'left' } }]);
    expect(await feed.next()).toEqual({ value: undefined, done: true });
    expect(conversation.following).toBe(false);
  });

  it('ends at once when the writer says the viewer is no longer a member once it listens (a leave announced before)', async () => {
    const conversation = new Conversation();
    conversation.bobJoinedAt = null; // left; the `left` went out before this feed listened
    const { feed, take } = await feedOf(conversation);
    conversation.send(1);
    expect(await take(1)).toEqual([{ end: { reason: 'left' } }]);
    expect(await feed.next()).toEqual({ value: undefined, done: true });
    expect(conversation.following).toBe(false);
  });

  it('fills no gap past a leave it did not hear: it ends as left, delivering nothing sent after', async () => {
    const conversation = new Conversation();
    const { take } = await feedOf(conversation);
    conversation.send(1);
    conversation.bobJoinedAt = null; // bob left; that `left` was lost with message 2
    conversation.send(2, { announce: false });
    conversation.send(3);
    expect(await take(3)).toEqual([{ seq: 1 }, { end: { reason: 'left' } }]);
  });

  it('takes a leave and a rejoin inside a gap for a leave (the subscription was for the old membership)', async () => {
    const conversation = new Conversation();
    const { take } = await feedOf(conversation);
    conversation.send(1);
    conversation.bobJoinedAt = '2026-12-03T11:00:00.000Z';
    conversation.signal({ kind: 'resync' });
    conversation.send(2);
    expect(await take(3)).toEqual([{ seq: 1 }, { end: { reason: 'left' } }]);
  });

  it('asks the writer once when it starts and again only for a gap', async () => {
    const conversation = new Conversation();
    const { take } = await feedOf(conversation);
    for (const seq of [1, 2, 3]) conversation.send(seq);
    expect(await take(3)).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
    expect(conversation.membershipAsked).toBe(1);
    conversation.send(4, { announce: false });
    conversation.send(5);
    expect(await take(2)).toEqual([{ seq: 4 }, { seq: 5 }]);
    expect(conversation.membershipAsked).toBe(2);
  });

  it('stops listening at once when the subscriber goes, even while waiting', async () => {
    const conversation = new Conversation();
    const { feed } = await feedOf(conversation);
    const waiting = feed.next();
    await feed.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(conversation.following).toBe(false);
  });
});
