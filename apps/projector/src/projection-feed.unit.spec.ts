import { InMemoryEventLog, type NewEvent } from '@parley/event-log';
import { InMemoryPresenceMembersStore, InMemoryReadModelStore, PresenceProjection, TIMELINE_TABLES, TimelineProjection, type Projection } from '@parley/projections';
import { waitFor } from '@parley/testing';
import { ProjectionFeed } from './projection-feed';
import { ProjectionRunner } from './projection-runner';

const GROUP = 'events.projector';
const USERS = ['alice', 'bob', 'carol'];
let clock = 0;
const meta = (actorId: string, eventId: string) => ({ eventId, actorId, occurredAt: new Date(Date.UTC(2026, 0, 1) + clock++ * 1000).toISOString(), causationId: eventId, correlationId: 'test' });

function conversation(id: string, messages: number, prefix = 'm'): NewEvent[] {
  const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
  return [
    { event: { type: 'ConversationCreated', data: { conversationId: id, kind: 'GROUP', title: 't', createdBy: 'alice', memberIds: ['bob', 'carol'], createdAt: at } }, metadata: meta('alice', `${id}-c`) },
    ...USERS.map((userId): NewEvent => ({ event: { type: 'UserJoined', data: { conversationId: id, userId, joinedAt: at } }, metadata: meta(userId, `${id}-j-${userId}`) })),
    ...Array.from({ length: messages }, (_, i): NewEvent => {
      const messageId = `${id}-${prefix}${i}`;
      const senderId = USERS[i % 3];
      return { event: { type: 'MessageSent', data: { conversationId: id, messageId, clientMessageId: messageId, senderId, body: `#${i}`, sentAt: at } }, metadata: meta(senderId, messageId) };
    }),
  ];
}

/** The storage every projector instance shares (Cassandra and Redis in production). */
function storage() {
  return { timeline: new InMemoryReadModelStore(), presence: new InMemoryPresenceMembersStore() };
}
type Storage = ReturnType<typeof storage>;

/** A projector instance: its own projection objects and runners on the shared storage, one feed. */
async function instance(log: InMemoryEventLog, store: Storage, which: 'timeline' | 'presence' | 'both' = 'both', group = GROUP) {
  const applied: Projection[] = [];
  const runner = (projection: Projection) =>
    new ProjectionRunner(projection, { log, chunkSize: 5, isTransient: () => false, publish: async () => undefined, onStatus: async () => undefined });
  const runners = [
    ...(which !== 'presence' ? [runner(new TimelineProjection(store.timeline))] : []),
    ...(which !== 'timeline' ? [runner(new PresenceProjection(store.presence))] : []),
  ];
  for (const r of runners) {
    const apply = r.projection.apply.bind(r.projection);
    r.projection.apply = async (...args) => {
      applied.push(r.projection);
      return apply(...args);
    };
    await r.start();
  }
  const feed = new ProjectionFeed(log, group, runners);
  await feed.start();
  return { feed, runners, applied };
}

async function caughtUp(log: InMemoryEventLog, store: Storage): Promise<boolean> {
  const ends = await log.endOffsets();
  const [timeline, presence] = await Promise.all([store.timeline.checkpoints(), store.presence.checkpoints(1)]);
  return [...ends].every(([p, end]) => end === '0' || (timeline.get(p) === end && presence.get(p) === end));
}

const messages = (store: Storage) => store.timeline.rows(TIMELINE_TABLES.messages.name).map((r) => `${r.conversation_id}:${r.seq}:${r.body}`).sort();

describe('ProjectionFeed: one read of the log for every projection, partitions shared by instances', () => {
  it('two instances share the partitions and build exactly what one builds; when one stops, the other takes its partitions over', async () => {
    const log = new InMemoryEventLog(4);
    const ids = Array.from({ length: 8 }, (_, i) => `g_feed${String(i).padStart(22, '0')}`);
    for (const id of ids) await log.append(id, conversation(id, 12));

    const shared = storage();
    const a = await instance(log, shared);
    const b = await instance(log, shared);
    await waitFor('the instances to share the partitions', () => a.feed.partitions.length > 0 && b.feed.partitions.length > 0);
    expect([...a.feed.partitions, ...b.feed.partitions].sort()).toEqual([0, 1, 2, 3]);
    await waitFor('both to reach the end of the log', () => caughtUp(log, shared));

    const alone = storage();
    const one = await instance(log, alone, 'both', 'other.projector'); // another deployment on the same log
    await waitFor('a lone instance to reach the end', () => caughtUp(log, alone));
    expect(messages(shared)).toEqual(messages(alone));
    expect(messages(shared)).toHaveLength(8 * 12);

    await a.feed.stop();
    await waitFor('the other instance to hold every partition', () => b.feed.partitions.length === 4);
    for (const id of ids) await log.append(id, conversation(id, 3, 'late').slice(4));
    await waitFor('the remaining instance to converge', () => caughtUp(log, shared));
    await waitFor('the lone instance to converge', () => caughtUp(log, alone));
    expect(messages(shared)).toEqual(messages(alone));
    expect(messages(shared)).toHaveLength(8 * 15);
    for (const id of ids) expect(await shared.presence.members(1, id)).toEqual(await alone.presence.members(1, id));
    await Promise.all([b.feed.stop(), one.feed.stop()]);
  });

  it('reads each partition from the checkpoint of the projection furthest behind; the others skip what they have', async () => {
    const log = new InMemoryEventLog(2);
    const id = 'g_feedbehind0000000000000000';
    await log.append(id, conversation(id, 20));
    const shared = storage();
    const first = await instance(log, shared, 'timeline');
    const end = (await log.endOffsets()).get(log.partitionFor(id));
    await waitFor('the timeline to reach the end', async () => (await shared.timeline.checkpoints()).get(log.partitionFor(id)) === end);
    await first.feed.stop();

    // Presence starts from scratch; the timeline, at the end already, applies nothing again.
    const both = await instance(log, shared, 'both');
    await waitFor('presence to reach the end', () => caughtUp(log, shared));
    expect(both.applied.every((p) => p.name === 'presence')).toBe(true);
    expect(await shared.presence.members(1, id)).toEqual(expect.arrayContaining(USERS));
    await both.feed.stop();
  });
});
