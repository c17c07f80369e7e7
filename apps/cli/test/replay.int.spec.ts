import { loadConfig } from '@parley/config';
import type { ConversationEventType } from '@parley/domain';
import { createKafka, encodeCursor, eventsPage, KafkaConfig, KafkaEventLog, readEvents, type EventRecord, type NewEvent } from '@parley/event-log';
import { uniqueName, waitFor } from '@parley/testing';
import { parseReplayOptions, runReplay } from '../src/replay';
import { csvRecords } from './parse-csv';
import { Collector, conversationsOn, newEvent } from './replay-fixtures';

const PARTITIONS = 3;
const WINDOW_MS = 3_600_000;
const START = Date.parse('2026-03-01T10:00:00.000Z');
const windowStart = (w: number) => new Date(START + w * WINDOW_MS);
const iso = (ms: number) => new Date(ms).toISOString();

interface Appended {
  readonly event: NewEvent;
  readonly conversationId: string;
  readonly partition: number;
  readonly offset: string;
  readonly occurredAtMs: number;
  readonly window: number;
}

/** The order the reader promises: (occurredAt, partition, offset). */
const inReadOrder = (events: readonly Appended[]) =>
  [...events].sort((a, b) => a.occurredAtMs - b.occurredAtMs || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
const idsOf = (events: readonly Appended[]) => events.map((e) => e.event.metadata.eventId);

describe('parley replay on Kafka', () => {
  const log = new KafkaEventLog(createKafka(loadConfig(KafkaConfig), 'cli-replay-test'), uniqueName('replay'), PARTITIONS);
  const appended: Appended[] = [];
  // Two conversations share partition 0, so the conversation filter has something to filter out.
  const [[alpha, beta], [gamma], [delta]] = conversationsOn(log, [0, 1, 2], 2).map((ids, i) => (i === 0 ? ids : ids.slice(0, 1)));
  const conversations = [alpha, beta, gamma, delta];
  const TYPES: ConversationEventType[] = ['MessageSent', 'UserJoined', 'MessageSent', 'ReadMarkerMoved', 'MessageSent', 'UserLeft'];

  async function append(conversationId: string, occurredAtMs: number, type: ConversationEventType, window: number, body?: string): Promise<Appended> {
    const event = newEvent(conversationId, type, iso(occurredAtMs), body);
    const [position] = await log.append(conversationId, [event]);
    const entry = { event, conversationId, ...position, occurredAtMs, window };
    appended.push(entry);
    return entry;
  }

  beforeAll(async () => {
    await log.connect();
    for (const c of conversations) await append(c, START - 60_000, 'ConversationCreated', -1);
    // Three windows an hour apart; inside each, events every 7 s round the conversations, some at
    // the same instant in different partitions (ties are broken by partition, then offset).
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 12; i++) {
        const occurredAtMs = windowStart(window).getTime() + Math.floor(i / 2) * 7_000;
        await append(conversations[i % 4], occurredAtMs, TYPES[i % TYPES.length], window, `w${window} #${i}, "quoted"\nnext line`);
      }
    }
  });

  afterAll(() => log.disconnect());

  const middle = () => inReadOrder(appended.filter((e) => e.window === 1));

  it('replays exactly the middle window, in order, as NDJSON', async () => {
    const out = new Collector();
    const options = parseReplayOptions({ from: windowStart(1).toISOString(), to: windowStart(2).toISOString() });

    const summary = await runReplay(options, log, out);

    const records = out.lines.map((line) => JSON.parse(line) as EventRecord);
    expect(records.map((r) => r.id)).toEqual(idsOf(middle()));
    expect(summary.events).toBe(12);
    const first = middle()[0];
    expect(records[0]).toEqual({
      id: first.event.metadata.eventId,
      type: first.event.event.type,
      conversationId: first.conversationId,
      actorId: 'alice',
      occurredAt: iso(first.occurredAtMs),
      cursor: encodeCursor(first, first.conversationId),
      partition: first.partition,
      offset: first.offset,
      payload: JSON.parse(JSON.stringify(first.event.event.data)),
    });
  });

  it('replays exactly the middle window, in order, as CSV', async () => {
    const out = new Collector();
    const options = parseReplayOptions({ from: windowStart(1).toISOString(), to: windowStart(2).toISOString(), format: 'csv' });

    await runReplay(options, log, out);

    const rows = csvRecords(out.text);
    expect(rows.map((r) => r.id)).toEqual(idsOf(middle()));
    expect(rows.map((r) => JSON.parse(r.payload))).toEqual(middle().map((e) => JSON.parse(JSON.stringify(e.event.event.data))));
    expect(rows.map((r) => `${r.partition}:${r.offset}`)).toEqual(middle().map((e) => `${e.partition}:${e.offset}`));
  });

  it('filters by --type and --conversation', async () => {
    const out = new Collector();
    const options = parseReplayOptions({
      from: windowStart(1).toISOString(),
      to: windowStart(2).toISOString(),
      type: ['MessageSent'],
      conversation: alpha,
    });

    await runReplay(options, log, out);

    const expected = middle().filter((e) => e.conversationId === alpha && e.event.event.type === 'MessageSent');
    expect(expected.length).toBeGreaterThan(0);
    expect(out.lines.map((line) => JSON.parse(line).id)).toEqual(idsOf(expected));
  });

  it('filters by several types across every conversation', async () => {
    const out = new Collector();
    await runReplay(parseReplayOptions({ type: ['UserJoined', 'UserLeft'] }), log, out);

    const expected = inReadOrder(appended.filter((e) => ['UserJoined', 'UserLeft'].includes(e.event.event.type)));
    expect(out.lines.map((line) => JSON.parse(line).id)).toEqual(idsOf(expected));
  });

  it('with --follow, writes an event appended after the start, then stops cleanly', async () => {
    const out = new Collector();
    const stop = new AbortController();
    const lastWindow = appended.filter((e) => e.window === 2).length;

    const replay = runReplay(parseReplayOptions({ from: windowStart(2).toISOString(), follow: true }), log, out, { signal: stop.signal });
    await waitFor('the last window', () => out.lines.length >= lastWindow, { timeoutMs: 30_000 });
    const live = await append(gamma, windowStart(3).getTime(), 'MessageSent', 3, 'live');
    await waitFor('the live event', () => out.lines.length === lastWindow + 1, { timeoutMs: 30_000 });
    stop.abort();

    await expect(replay).resolves.toEqual({ events: lastWindow + 1 });
    expect(out.writableFinished).toBe(true);
    expect(JSON.parse(out.lines.at(-1)!).id).toBe(live.event.metadata.eventId);
  });

  it('pulls: the reader holds at most its buffers, however long the range', async () => {
    const stream = readEvents(log, { bufferSize: 2 });
    const ids: string[] = [];
    let maxBuffered = 0;
    for await (const e of stream) {
      ids.push(e.metadata.eventId);
      maxBuffered = Math.max(maxBuffered, stream.progress()!.buffered);
    }
    expect(ids).toEqual(idsOf(inReadOrder(appended)));
    expect(maxBuffered).toBeLessThanOrEqual(2 * PARTITIONS);
  });

  it('pages the middle window with the events query, each event once', async () => {
    const ids: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await eventsPage(log, { from: windowStart(1), to: windowStart(2), first: 5, after });
      ids.push(...result.edges.map((e) => e.node.id));
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor!;
    }
    expect(ids).toEqual(idsOf(middle()));
  });
});
