import { evolveConversation, initialConversationState, type ConversationState, type LogPosition } from '@parley/domain';
import { InMemoryEventLog } from '../in-memory-event-log';
import { readToEnd } from '../read-to-end';
import { appendBulkEvents, generateBulkEvents, type BulkStep } from './bulk-events';

const PARTITIONS = 4;
const log = new InMemoryEventLog(PARTITIONS);
const options = { events: 3_000, partitionCount: PARTITIONS, partitionFor: (id: string) => log.partitionFor(id), activeConversations: 40, meanConversationEvents: 60, users: 200, duplicateShare: 0.02 };

describe('generateBulkEvents', () => {
  const steps: BulkStep[] = [...generateBulkEvents(options)];
  const events = steps.flatMap((s) => s.events.map((e, i) => ({ ...e, position: s.positions[i] })));

  it('generates exactly the number of events asked for, the same ones for the same seed', () => {
    expect(events).toHaveLength(3_000);
    expect([...generateBulkEvents(options)]).toEqual(steps);
    expect([...generateBulkEvents({ ...options, seed: 2 })]).not.toEqual(steps);
  });

  it('predicts consecutive offsets per partition, from the start offsets given', () => {
    const from = new Map([[1, '500']]);
    const shifted = [...generateBulkEvents({ ...options, startOffsets: from })].flatMap((s) => s.positions);
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = shifted.filter((pos) => pos.partition === p).map((pos) => Number(pos.offset));
      const first = p === 1 ? 500 : 0;
      expect(offsets).toEqual(offsets.map((_, i) => first + i));
    }
  });

  it('is valid conversation traffic: every event applies to its conversation, read markers point at its messages', () => {
    const states = new Map<string, ConversationState>();
    const messagePositions = new Map<string, Set<string>>();
    const types = new Set<string>();
    for (const { event, position } of events) {
      const id = event.data.conversationId;
      expect(position.partition).toBe(log.partitionFor(id));
      const before = states.get(id) ?? initialConversationState();
      types.add(event.type);
      if (event.type === 'ConversationCreated') expect(before.status).toBe('NOT_CREATED');
      else expect(before.status).toBe('CREATED');
      if (event.type === 'ReadMarkerMoved') {
        expect(messagePositions.get(id)?.has(event.data.upTo.offset)).toBe(true);
        expect(event.data.upTo.partition).toBe(position.partition);
      }
      if (event.type === 'UserJoined' && before.status === 'CREATED') expect(before.members.has(event.data.userId)).toBe(false);
      if (event.type === 'UserLeft' && before.status === 'CREATED') expect(before.members.has(event.data.userId)).toBe(true);
      if (event.type === 'MessageSent') {
        if (before.status === 'CREATED') expect(before.members.has(event.data.senderId)).toBe(true);
        messagePositions.set(id, (messagePositions.get(id) ?? new Set()).add(position.offset));
      }
      states.set(id, evolveConversation(before, event, position as LogPosition));
    }
    expect([...types].sort()).toEqual(['ConversationCreated', 'MessageSent', 'ReadMarkerMoved', 'UserJoined', 'UserLeft']);
  });

  it('appends some messages twice under the same message id (racing decisions), and says so', () => {
    const duplicates = steps.filter((s) => s.duplicate);
    expect(duplicates.length).toBeGreaterThan(0);
    for (const step of duplicates) {
      const [dup] = step.events;
      const firsts = events.filter((e) => e.event.type === 'MessageSent' && dup.event.type === 'MessageSent' && e.event.data.messageId === dup.event.data.messageId);
      expect(firsts).toHaveLength(2);
      expect(BigInt(firsts[0].position.offset)).toBeLessThan(BigInt(step.positions[0].offset));
    }
  });

  it('refuses fewer events than a conversation needs', () => {
    expect(() => [...generateBulkEvents({ ...options, events: 2 })]).toThrow('at least 3 events');
  });
});

describe('appendBulkEvents', () => {
  it('appends the generated events at their predicted positions, in bounded requests, and summarises them', async () => {
    const target = new InMemoryEventLog(PARTITIONS);
    const progress: number[] = [];
    const summary = await appendBulkEvents(target, { events: 2_000, seed: 7, activeConversations: 30, users: 100, requestEvents: 300, onProgress: (n) => progress.push(n) });

    const read = await readToEnd(target);
    expect(read).toHaveLength(2_000);
    expect(summary.events).toBe(2_000);
    expect(Object.values(summary.byType).reduce((a, b) => a + b, 0)).toBe(2_000);
    expect(summary.conversations).toBe(read.filter((e) => e.event.type === 'ConversationCreated').length);
    expect(progress.at(-1)).toBe(2_000);
    expect(progress.length).toBeGreaterThanOrEqual(2_000 / 310);
    const ends = [...summary.endOffsets.values()].reduce((n, o) => n + Number(o), 0);
    expect(ends).toBe(2_000);
  });

  it('fails when the log was written by someone else meanwhile (the predicted positions would be wrong)', async () => {
    const target = new InMemoryEventLog(1);
    const append = target.append.bind(target);
    let calls = 0;
    jest.spyOn(target, 'append').mockImplementation(async (conversationId, events) => {
      if (calls++ === 5) await append(conversationId, events); // an intruder's record
      return append(conversationId, events);
    });
    await expect(appendBulkEvents(target, { events: 200, activeConversations: 5, users: 20 })).rejects.toThrow('written by someone else');
  });
});
