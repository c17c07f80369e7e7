import type { ConversationEvent, ConversationEventType } from '@parley/domain';
import { encodeCursor } from './cursor';
import type { ConsumeOptions, EventBatch, EventConsumer, EventLog, NewEvent, OwnershipHandler, OwnershipOptions, RecordedEvent } from './event-log.port';
import {
  decodeEventsPosition,
  encodeEventsPosition,
  eventsPage,
  EventsQueryError,
  readEvents,
  type EventsPageQuery,
  type EventStream,
} from './event-reader';
import { toEventRecord } from './event-record';
import { InMemoryEventLog } from './in-memory-event-log';

const BASE = Date.parse('2026-02-01T00:00:00.000Z');
const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();
const time = (seconds: number) => new Date(BASE + seconds * 1000);

let sequence = 0;
function newEvent(conversationId: string, type: ConversationEventType, occurredAt: string, body = `body-${sequence + 1}`): NewEvent {
  const n = ++sequence;
  const userId = `user${n}`;
  const event: ConversationEvent = (() => {
    switch (type) {
      case 'ConversationCreated':
        return { type, data: { conversationId, kind: 'GROUP', title: 'Launch', createdBy: 'alice', memberIds: ['bob'], createdAt: occurredAt } };
      case 'UserJoined':
        return { type, data: { conversationId, userId, joinedAt: occurredAt } };
      case 'UserLeft':
        return { type, data: { conversationId, userId, leftAt: occurredAt } };
      case 'MessageSent':
        return { type, data: { conversationId, messageId: `m_${n}`, clientMessageId: `c${n}`, senderId: 'alice', body, sentAt: occurredAt } };
      case 'ReadMarkerMoved':
        return { type, data: { conversationId, userId: 'bob', upTo: { partition: 1, offset: '9007199254740993' }, movedAt: occurredAt } };
    }
  })();
  return { event, metadata: { eventId: `e_${n}`, actorId: 'alice', occurredAt, causationId: `cmd-${n}`, correlationId: 'corr' } };
}
const message = (conversationId: string, seconds: number, body?: string) => newEvent(conversationId, 'MessageSent', at(seconds), body);

/** Conversation ids (valid group ids) spread so that each given partition gets `perPartition` of them. */
function conversationsOn(log: EventLog, partitions: readonly number[], perPartition = 1): string[][] {
  const found = partitions.map(() => [] as string[]);
  for (let i = 0; found.some((ids) => ids.length < perPartition); i++) {
    const id = `g_${i.toString(36).padStart(26, '0')}`;
    const slot = partitions.indexOf(log.partitionFor(id));
    if (slot !== -1 && found[slot].length < perPartition) found[slot].push(id);
  }
  return found;
}

async function collect(stream: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const ids = (events: readonly RecordedEvent[]) => events.map((e) => e.metadata.eventId);
const bodyOf = (e: RecordedEvent) => (e.event.type === 'MessageSent' ? e.event.data.body : e.event.type);

/** Delegates to a log and keeps every consumer it hands out, to see that readers stop them. */
class TrackingLog implements EventLog {
  readonly consumers: { options: ConsumeOptions; consumer: EventConsumer; settled: boolean }[] = [];
  failConsume: Error | undefined;

  constructor(private readonly inner: EventLog) {}
  get partitionCount() {
    return this.inner.partitionCount;
  }
  partitionFor(id: string) {
    return this.inner.partitionFor(id);
  }
  append(id: string, events: readonly NewEvent[]) {
    return this.inner.append(id, events);
  }
  own(options: OwnershipOptions, handler: OwnershipHandler) {
    return this.inner.own(options, handler);
  }
  endOffsets() {
    return this.inner.endOffsets();
  }
  offsetsForTime(ms: number) {
    return this.inner.offsetsForTime(ms);
  }
  async consume(options: ConsumeOptions, handler: (batch: EventBatch) => Promise<void>): Promise<EventConsumer> {
    if (this.failConsume) throw this.failConsume;
    const consumer = await this.inner.consume(options, handler);
    const entry = { options, consumer, settled: false };
    void consumer.done.finally(() => (entry.settled = true)).catch(() => undefined);
    this.consumers.push(entry);
    return consumer;
  }
}

describe('readEvents', () => {
  it('merges the partitions by (occurredAt, partition, offset), each partition in log order', async () => {
    const log = new InMemoryEventLog(4);
    const [[a], [b], [c]] = conversationsOn(log, [0, 1, 3]);
    await log.append(c, [message(c, 5, 'c5'), message(c, 30, 'c30')]);
    await log.append(a, [message(a, 10, 'a10')]);
    await log.append(b, [message(b, 10, 'b10'), message(b, 15, 'b15'), message(b, 40, 'b40')]);
    await log.append(a, [message(a, 10, 'a10-again'), message(a, 20, 'a20')]); // ties with a10 and b10: partition, then offset decide

    const events = await collect(readEvents(log));

    expect(events.map(bodyOf)).toEqual(['c5', 'a10', 'a10-again', 'b10', 'b15', 'a20', 'c30', 'b40']);
  });

  it('keeps log order within a partition where clocks disagree', async () => {
    const log = new InMemoryEventLog(2);
    const [[a], [b]] = conversationsOn(log, [0, 1]);
    await log.append(a, [message(a, 50, 'a50'), message(a, 10, 'a10-stamped-early')]);
    await log.append(b, [message(b, 20, 'b20'), message(b, 60, 'b60')]);

    const events = await collect(readEvents(log));

    expect(events.map(bodyOf)).toEqual(['b20', 'a50', 'a10-stamped-early', 'b60']);
  });

  it('filters by event type', async () => {
    const log = new InMemoryEventLog(3);
    const [[a], [b]] = conversationsOn(log, [0, 2]);
    await log.append(a, [newEvent(a, 'ConversationCreated', at(1)), newEvent(a, 'UserJoined', at(2)), message(a, 3, 'hi')]);
    await log.append(b, [newEvent(b, 'ConversationCreated', at(4)), newEvent(b, 'UserLeft', at(5)), newEvent(b, 'ReadMarkerMoved', at(6))]);

    const events = await collect(readEvents(log, { types: new Set(['UserJoined', 'UserLeft', 'MessageSent']) }));

    expect(events.map((e) => e.event.type)).toEqual(['UserJoined', 'MessageSent', 'UserLeft']);
  });

  it('reads only the partition of a given conversation and only that conversation', async () => {
    const log = new InMemoryEventLog(4);
    const [[a, neighbour], [other]] = conversationsOn(log, [2, 3], 2).map((ids) => ids);
    await log.append(a, [message(a, 1, 'a1')]);
    await log.append(neighbour, [message(neighbour, 2, 'same partition, other conversation')]);
    await log.append(other, [message(other, 3, 'other partition')]);
    await log.append(a, [message(a, 4, 'a4')]);

    const stream = readEvents(log, { conversationId: a });
    const events = await collect(stream);

    expect(events.map(bodyOf)).toEqual(['a1', 'a4']);
    expect(stream.progress()).toMatchObject({ total: 3, read: 3, delivered: 2 }); // partition 2 only: a1, neighbour, a4
  });

  it('bounds occurredAt by from (inclusive) and to (exclusive), starting and stopping at the offsets for those times', async () => {
    const log = new InMemoryEventLog(2);
    const [[a], [b]] = conversationsOn(log, [0, 1]);
    await log.append(a, [message(a, 0, 'a0'), message(a, 10, 'a10'), message(a, 20, 'a20'), message(a, 30, 'a30')]);
    await log.append(b, [message(b, 5, 'b5'), message(b, 19.999, 'b19.999'), message(b, 40, 'b40')]);

    const stream = readEvents(log, { from: time(10), to: time(20) });
    const events = await collect(stream);

    expect(events.map(bodyOf)).toEqual(['a10', 'b19.999']);
    expect(stream.progress()).toMatchObject({ total: 2, read: 2 }); // a: [1, 2), b: [1, 2)
  });

  it('drops events stamped outside [from, to) that sit inside the offset range', async () => {
    const log = new InMemoryEventLog(1);
    const [[a]] = conversationsOn(log, [0]);
    await log.append(a, [message(a, 10, 'a10'), message(a, 5, 'a5-late-record'), message(a, 15, 'a15'), message(a, 25, 'a25'), message(a, 18, 'a18')]);

    expect((await collect(readEvents(log, { from: time(10), to: time(20) }))).map(bodyOf)).toEqual(['a10', 'a15']);
  });

  it('stops at the end offsets captured when the read began', async () => {
    const log = new InMemoryEventLog(2);
    const [[a]] = conversationsOn(log, [1]);
    await log.append(a, [message(a, 1, 'before')]);
    const stream = readEvents(log);
    const iterator = stream[Symbol.asyncIterator]();
    expect(bodyOf((await iterator.next()).value)).toBe('before');
    await log.append(a, [message(a, 2, 'after the start')]);

    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('with follow, delivers events appended after the start, and leaving the loop stops the log consumers', async () => {
    const log = new TrackingLog(new InMemoryEventLog(3));
    const [[a], [b]] = conversationsOn(log, [0, 2]);
    await log.append(a, [message(a, 1, 'old')]);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of readEvents(log, { follow: true })) {
        seen.push(bodyOf(e));
        if (seen.length === 1) await log.append(b, [message(b, 2, 'live')]);
        if (seen.length === 2) break;
      }
    })();

    await reading;

    expect(seen).toEqual(['old', 'live']);
    expect(log.consumers.length).toBeGreaterThan(0);
    expect(log.consumers.every((c) => c.settled)).toBe(true);
  });

  it('with follow, close() ends an iteration that is waiting for new events', async () => {
    const log = new TrackingLog(new InMemoryEventLog(2));
    const stream = readEvents(log, { follow: true });
    const iterator = stream[Symbol.asyncIterator]();
    const next = iterator.next();
    await stream.close();

    await expect(next).resolves.toEqual({ done: true, value: undefined });
    expect(log.consumers.every((c) => c.settled)).toBe(true);
  });

  it('keeps memory flat: each partition buffers at most bufferSize events, the iterator pulls the rest', async () => {
    const log = new InMemoryEventLog(2);
    const [[a], [b]] = conversationsOn(log, [0, 1]);
    for (let i = 0; i < 100; i++) {
      await log.append(a, [message(a, 2 * i, `a${i}`)]);
      await log.append(b, [message(b, 2 * i + 1, `b${i}`)]);
    }
    const stream = readEvents(log, { bufferSize: 4 });
    let maxBuffered = 0;
    let readAfterFirst = -1;
    let count = 0;
    for await (const _ of stream) {
      const progress = stream.progress()!;
      maxBuffered = Math.max(maxBuffered, progress.buffered);
      if (count++ === 0) readAfterFirst = progress.read;
    }

    expect(count).toBe(200);
    expect(maxBuffered).toBeLessThanOrEqual(8);
    expect(readAfterFirst).toBeLessThan(10);
    expect(stream.progress()).toEqual({ total: 200, read: 200, delivered: 200, buffered: 0 });
  });

  it('resumes from position() exactly where it left off', async () => {
    const log = new InMemoryEventLog(3);
    const [[a], [b], [c]] = conversationsOn(log, [0, 1, 2]);
    for (let i = 0; i < 5; i++) {
      await log.append(a, [message(a, 3 * i, `a${i}`)]);
      await log.append(b, [message(b, 3 * i + 1, `b${i}`)]);
      await log.append(c, [message(c, 3 * i + 2, `c${i}`)]);
    }
    const all = await collect(readEvents(log));

    const first = readEvents(log, { limit: 7 });
    const head = await collect(first);
    const rest = await collect(readEvents(log, { after: first.position() }));

    expect(ids([...head, ...rest])).toEqual(ids(all));
    expect(head).toHaveLength(7);
  });

  it('reads nothing when resuming past the end of the range', async () => {
    const log = new InMemoryEventLog(2);
    const [[a]] = conversationsOn(log, [0]);
    await log.append(a, [message(a, 1), message(a, 2), message(a, 30)]);
    const stream = readEvents(log, { to: time(10), after: new Map([[0, '3'], [1, '0']]) });

    expect(await collect(stream)).toEqual([]);
    expect(stream.progress()).toEqual({ total: 0, read: 0, delivered: 0, buffered: 0 });
  });

  it('fails the iteration when the log cannot be read', async () => {
    const log = new TrackingLog(new InMemoryEventLog(1));
    const [[a]] = conversationsOn(log, [0]);
    await log.append(a, [message(a, 1)]);
    log.failConsume = new Error('broker unreachable');

    await expect(collect(readEvents(log))).rejects.toThrow('broker unreachable');
  });

  it('refuses follow with to', () => {
    expect(() => readEvents(new InMemoryEventLog(1), { follow: true, to: time(1) })).toThrow(EventsQueryError);
  });
});

describe('events positions', () => {
  it('round-trips, offsets beyond 2^53 included, as an opaque base64url string', () => {
    const position = new Map([
      [0, '0'],
      [1, '9007199254740993'],
      [2, '42'],
    ]);
    const text = encodeEventsPosition(position);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeEventsPosition(text, 3)).toEqual(position);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/=='],
    ['another format', Buffer.from('ep2.1.2.3').toString('base64url')],
    ['a message cursor', encodeCursor({ partition: 1, offset: '2' }, 'g_00000000000000000000000001')],
    ['too few partitions', Buffer.from('ep1.1.2').toString('base64url')],
    ['a non-numeric offset', Buffer.from('ep1.1.x.3').toString('base64url')],
    ['an empty offset', Buffer.from('ep1.1..3').toString('base64url')],
    ['an offset beyond int64', Buffer.from('ep1.1.9223372036854775808.3').toString('base64url')],
    ['a huge string', 'A'.repeat(40_000)],
  ])('rejects %s with an EventsQueryError on the field', (_what, text) => {
    let error: unknown;
    try {
      decodeEventsPosition(text, 3, 'after');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EventsQueryError);
    expect(error).toMatchObject({ field: 'after', kind: 'BAD_USER_INPUT', message: expect.stringMatching(/^after is not a valid events cursor: /) });
  });
});

describe('toEventRecord', () => {
  it('gives the analysts\' shape: the message cursor, the position and the event fields as payload', async () => {
    const log = new InMemoryEventLog(2);
    const [[a]] = conversationsOn(log, [1]);
    const sent = message(a, 7, 'hello, "world"');
    const [position] = await log.append(a, [sent, newEvent(a, 'ReadMarkerMoved', at(8))]);
    const [messageEvent, marker] = await collect(readEvents(log));

    expect(toEventRecord(messageEvent)).toEqual({
      id: sent.metadata.eventId,
      type: 'MessageSent',
      conversationId: a,
      actorId: 'alice',
      occurredAt: at(7),
      cursor: encodeCursor(position, a),
      partition: 1,
      offset: '0',
      payload: sent.event.data,
    });
    expect(toEventRecord(marker).payload).toEqual({ conversationId: a, userId: 'bob', upTo: { partition: 1, offset: '9007199254740993' }, movedAt: at(8) });
  });
});

describe('eventsPage', () => {
  async function logWithEvents(count: number) {
    const log = new InMemoryEventLog(4);
    const conversations = conversationsOn(log, [0, 1, 2, 3]).flat();
    for (let i = 0; i < count; i++) {
      const c = conversations[(i * 7) % 4];
      await log.append(c, [message(c, (i * 13) % 29, `m${i}`)]); // timestamps out of append order
    }
    return { log, conversations };
  }

  async function allPages(log: EventLog, query: Omit<EventsPageQuery, 'after'>) {
    const pages = [];
    let after: string | undefined;
    for (;;) {
      const page = await eventsPage(log, { ...query, after });
      pages.push(page);
      if (!page.pageInfo.hasNextPage) return pages;
      after = page.pageInfo.endCursor!;
    }
  }

  it('covers every event exactly once across pages, in the order of one read', async () => {
    const { log } = await logWithEvents(23);
    const expected = ids(await collect(readEvents(log)));

    const pages = await allPages(log, { first: 5 });

    expect(pages.map((p) => p.edges.length)).toEqual([5, 5, 5, 5, 3]);
    expect(pages.flatMap((p) => p.edges.map((e) => e.node.id))).toEqual(expected);
    expect(pages.map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, true, true, false]);
    for (const page of pages) {
      expect(page.pageInfo).toMatchObject({ hasPreviousPage: false, startCursor: page.edges[0].cursor, endCursor: page.edges.at(-1)!.cursor });
    }
  });

  it('continues the same stream from any edge cursor', async () => {
    const { log } = await logWithEvents(12);
    const page = await eventsPage(log, { first: 12 });
    const fromFifth = await eventsPage(log, { first: 12, after: page.edges[4].cursor });

    expect(fromFifth.edges.map((e) => e.node.id)).toEqual(page.edges.slice(5).map((e) => e.node.id));
  });

  it('pages through a filtered range', async () => {
    const { log, conversations } = await logWithEvents(40);
    const query = { conversationId: conversations[1], from: time(5), types: ['MessageSent'], first: 2 };
    const expected = ids(await collect(readEvents(log, { conversationId: conversations[1], from: time(5) })));

    const pages = await allPages(log, query);

    expect(expected.length).toBeGreaterThan(2);
    expect(pages.flatMap((p) => p.edges.map((e) => e.node.id))).toEqual(expected);
  });

  it('answers an empty range with no edges and no cursors', async () => {
    const { log } = await logWithEvents(3);
    expect(await eventsPage(log, { first: 10, from: time(1000) })).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it.each([
    [{ first: 0 }, 'first', 'first must be between 1 and 1000'],
    [{ first: 1001 }, 'first', 'first must be between 1 and 1000'],
    [{ first: 2.5 }, 'first', 'first must be between 1 and 1000'],
    [{ first: 1, after: 'garbage!' }, 'after', 'after is not a valid events cursor: not base64url'],
    [{ first: 1, types: ['MessageSent', 'Nope'] }, 'types', 'types[1] "Nope" is not an event type'],
    [{ first: 1, types: [] }, 'types', 'types must not be empty'],
    [{ first: 1, from: time(10), to: time(10) }, 'to', 'to must be after from'],
    [{ first: 1, from: new Date('nope') }, 'from', 'from is not a valid time'],
    [{ first: 1, conversationId: 'nope' }, 'conversationId', 'conversationId is not a conversation id'],
  ] as [EventsPageQuery, string, string][])('rejects %j on %s', async (query, field, message) => {
    const error = await eventsPage(new InMemoryEventLog(2), query).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(EventsQueryError);
    expect(error).toMatchObject({ field, message: expect.stringContaining(message) });
  });

  it('reads a page with one log consumer, stopped when the page is done', async () => {
    const { log: inner } = await logWithEvents(30);
    const log = new TrackingLog(inner);
    const page = await eventsPage(log, { first: 3 });
    expect(page.edges).toHaveLength(3);
    expect(log.consumers).toHaveLength(1);
    expect(log.consumers[0].settled).toBe(true);
  });

  it('a limited read delivers at most limit events', async () => {
    const { log } = await logWithEvents(30);
    const stream: EventStream = readEvents(log, { limit: 4 });
    const delivered: number[] = [];
    for await (const _ of stream) delivered.push(stream.progress()!.delivered);
    expect(delivered).toEqual([1, 2, 3, 4]);
  });
});
