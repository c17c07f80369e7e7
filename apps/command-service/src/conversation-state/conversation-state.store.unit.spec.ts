import { messageIdFor, type ConversationEvent } from '@parley/domain';
import { InMemoryEventLog, type NewEvent } from '@parley/event-log';
import { waitFor } from '@parley/testing';
import type { CommandServiceConfig } from '../command-service.config';
import { ConversationStateStore } from './conversation-state.store';

const GROUP = 'g_01jnfx3c9m8q2v7k4x6b5n1t0r';
const NOW = '2026-01-01T00:00:00.000Z';
const created: ConversationEvent = { type: 'ConversationCreated', data: { conversationId: GROUP, kind: 'GROUP', title: null, createdBy: 'alice', memberIds: [], createdAt: NOW } };
const joined = (userId: string): ConversationEvent => ({ type: 'UserJoined', data: { conversationId: GROUP, userId, joinedAt: NOW } });
const sent = (clientMessageId: string): ConversationEvent => ({
  type: 'MessageSent',
  data: { conversationId: GROUP, messageId: messageIdFor(GROUP, 'alice', clientMessageId), clientMessageId, senderId: 'alice', body: 'hi', sentAt: NOW },
});
const recorded = (events: ConversationEvent[]): NewEvent[] =>
  events.map((event, i) => ({ event, metadata: { eventId: `${Math.random()}.${i}`, actorId: 'alice', occurredAt: NOW, causationId: 'c', correlationId: 'c' } }));

describe('ConversationStateStore: applying its own appends', () => {
  let log: InMemoryEventLog;
  let store: ConversationStateStore;

  beforeEach(async () => {
    log = new InMemoryEventLog(2);
    store = new ConversationStateStore(log, { commandTimeoutMs: 1_000 } as CommandServiceConfig);
    await store.start();
  });
  afterEach(() => store.onApplicationShutdown());

  /** A command as CommandExecutor runs it: under the conversation's lock, append, then applyOwn. */
  const command = (events: ConversationEvent[]) =>
    store.withState(GROUP, async () => {
      const positions = await log.append(GROUP, recorded(events));
      store.applyOwn(GROUP, events, positions);
    });

  const state = () => store.withState(GROUP, async (s) => s);

  it('applies them once, though the follower reads them back later', async () => {
    await command([created, joined('alice')]);
    await command([sent('one')]);
    await command([sent('two')]);
    const partition = log.partitionFor(GROUP);
    await waitFor('the follower to read everything back', async () => (await log.endOffsets()).get(partition) === '4' && (await state()).status === 'CREATED');
    const s = await state();
    if (s.status !== 'CREATED') throw new Error('not created');
    expect([...s.messages.values()].map((m) => m.clientMessageId)).toEqual(['one', 'two']);
    expect([...s.members.keys()]).toEqual(['alice']);
  });

  it('leaves events another writer appended in between to the follower, in log order', async () => {
    await command([created, joined('alice')]);
    // Another instance appends a join directly to the log; this instance's next command must see it.
    await log.append(GROUP, recorded([joined('bob')]));
    await command([sent('after-bob')]);
    const s = await state();
    if (s.status !== 'CREATED') throw new Error('not created');
    expect([...s.members.keys()]).toEqual(['alice', 'bob']);
    expect(s.messages.size).toBe(1);
  });

  it('ignores appends that do not directly follow what the follower applied (the follower applies them in order)', async () => {
    await command([created, joined('alice')]);
    const partition = log.partitionFor(GROUP);
    store.applyOwn(GROUP, [sent('far-ahead')], [{ partition, offset: '10' }]);
    store.applyOwn(GROUP, [sent('gap'), sent('gap2')], [{ partition, offset: '2' }, { partition, offset: '4' }]);
    const s = await state();
    if (s.status !== 'CREATED') throw new Error('not created');
    expect(s.messages.size).toBe(0);
  });
});
