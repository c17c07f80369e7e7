import { InMemoryEventLog, readEvents, toEventRecord, type ReadProgress, type RecordedEvent } from '@parley/event-log';
import { waitFor } from '@parley/testing';
import { Writable } from 'node:stream';
import { csvRecords, parseCsv } from '../test/parse-csv';
import { Collector, conversationsOn, newEvent } from '../test/replay-fixtures';
import { parseReplayOptions, runReplay, UsageError, type RawReplayOptions, type ReplayOptions } from './replay';

const BASE = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();
const ndjson: ReplayOptions = { format: 'ndjson', follow: false };

async function everything(log: InMemoryEventLog): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const e of readEvents(log)) events.push(e);
  return events;
}

describe('parseReplayOptions', () => {
  it('accepts a full command line', () => {
    expect(
      parseReplayOptions({
        from: '2026-01-01',
        to: '2026-01-01T10:30:00.250+02:00',
        type: ['MessageSent', 'UserJoined,UserLeft'],
        conversation: 'g_01jnfx3c9m8q2v7k4x6b5n1t0r',
        format: 'csv',
        output: 'out.csv',
      }),
    ).toEqual({
      from: new Date('2026-01-01T00:00:00.000Z'),
      to: new Date('2026-01-01T08:30:00.250Z'),
      types: new Set(['MessageSent', 'UserJoined', 'UserLeft']),
      conversationId: 'g_01jnfx3c9m8q2v7k4x6b5n1t0r',
      format: 'csv',
      follow: false,
      output: 'out.csv',
    });
  });

  it('defaults to the whole log as NDJSON on stdout', () => {
    expect(parseReplayOptions({ type: [] })).toEqual({ from: undefined, to: undefined, types: undefined, conversationId: undefined, format: 'ndjson', follow: false });
  });

  it.each<[string, RawReplayOptions, string]>([
    ['an unknown format', { format: 'xml' }, '--format must be ndjson or csv (got "xml")'],
    ['a time that is not ISO-8601', { from: 'yesterday' }, '--from must be an ISO-8601 time such as 2026-01-31 or 2026-01-31T09:30:00Z (got "yesterday")'],
    ['a date that does not exist', { to: '2026-13-01' }, '--to must be an ISO-8601 time'],
    ['a time without a zone', { from: '2026-01-01T09:30' }, '--from needs a time zone, e.g. 2026-01-01T09:30Z for UTC'],
    ['from after to', { from: '2026-01-02', to: '2026-01-01' }, '--from must be before --to'],
    ['an empty range', { from: '2026-01-01', to: '2026-01-01T00:00:00Z' }, '--from must be before --to'],
    ['an unknown type', { type: ['MessageSent', 'MessageEdited'] }, '--type "MessageEdited" is not an event type; expected one of ConversationCreated, UserJoined, UserLeft, MessageSent, ReadMarkerMoved'],
    ['a malformed conversation id', { conversation: 'general' }, '--conversation "general" is not a conversation id'],
    ['follow with an end', { follow: true, to: '2026-01-01' }, '--follow cannot be combined with --to'],
  ])('rejects %s', (_what, raw, message) => {
    expect(() => parseReplayOptions(raw)).toThrow(UsageError);
    expect(() => parseReplayOptions(raw)).toThrow(message);
  });
});

describe('runReplay', () => {
  async function logWithMessages(bodies: readonly string[]) {
    const log = new InMemoryEventLog(3);
    const [[a], [b]] = conversationsOn(log, [0, 2]);
    await log.append(a, [newEvent(a, 'ConversationCreated', at(0))]);
    for (const [i, body] of bodies.entries()) {
      const c = i % 2 === 0 ? a : b;
      await log.append(c, [newEvent(c, 'MessageSent', at(i + 1), body)]);
    }
    return log;
  }

  it('writes one JSON record per line, in the reader\'s order', async () => {
    const log = await logWithMessages(['one', 'two', 'three']);
    const out = new Collector();

    const summary = await runReplay(ndjson, log, out);

    const expected = (await everything(log)).map(toEventRecord);
    expect(out.text.endsWith('\n')).toBe(true);
    expect(out.lines.map((line) => JSON.parse(line))).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(summary).toEqual({ events: 4 });
  });

  it('writes CSV with a header and RFC 4180 quoting of bodies with commas, quotes and line breaks', async () => {
    const bodies = ['plain', 'a, b and c', 'she said "hi"', 'line one\nline two\r\nline three', '"", ,\n'];
    const log = await logWithMessages(bodies);
    const out = new Collector();

    await runReplay({ ...ndjson, format: 'csv', types: new Set(['MessageSent']) }, log, out);

    const [header] = parseCsv(out.text);
    expect(header).toEqual(['id', 'type', 'conversationId', 'actorId', 'occurredAt', 'cursor', 'partition', 'offset', 'payload']);
    const rows = csvRecords(out.text);
    expect(rows.map((row) => JSON.parse(row.payload).body)).toEqual(bodies);
    const expected = (await everything(log)).filter((e) => e.event.type === 'MessageSent').map(toEventRecord);
    expect(rows).toEqual(expected.map((r) => ({ ...r, partition: String(r.partition), payload: JSON.stringify(r.payload) })));
    // The payload field holds quotes and commas, so it is quoted with its quotes doubled.
    expect(out.text).toContain('"{""conversationId"":');
    expect(out.text).toContain('""body"":""a, b and c""');
  });

  it('writes only the header for an empty range', async () => {
    const log = await logWithMessages(['one']);
    const out = new Collector();
    await runReplay({ ...ndjson, format: 'csv', from: new Date(BASE + 3_600_000) }, log, out);
    expect(out.text).toBe('id,type,conversationId,actorId,occurredAt,cursor,partition,offset,payload\n');
  });

  it('reads no further than the output takes: a stalled output stalls the read', async () => {
    // Lines go out in chunks of up to 64 KiB (~200 of these lines): a few chunks are read ahead at most.
    const log = await logWithMessages(Array.from({ length: 3_000 }, (_, i) => `message ${i}`));
    const written: string[] = [];
    let release: (() => void) | undefined;
    let stalled = true;
    const output = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        if (stalled) release = done;
        else done();
      },
    });
    const reports: ReadProgress[] = [];

    const replay = runReplay(ndjson, log, output, { onProgress: (p) => reports.push(p), progressIntervalMs: 1 });
    await waitFor('a progress report while the output is stalled', () => release !== undefined && reports.length >= 3);

    expect(reports.at(-1)!.delivered).toBeLessThan(1_000);
    stalled = false;
    release!();
    await replay;
    expect(written.join('').split('\n').filter(Boolean)).toHaveLength(3_001);
    expect(reports.at(-1)).toMatchObject({ delivered: 3_001, read: 3_001, total: 3_001 });
  });

  it('with follow, writes new events until the signal ends it', async () => {
    const log = await logWithMessages(['old']);
    const [[c]] = conversationsOn(log, [1]);
    const out = new Collector();
    const stop = new AbortController();

    const replay = runReplay({ ...ndjson, follow: true }, log, out, { signal: stop.signal });
    await waitFor('the existing events', () => out.lines.length === 2);
    await log.append(c, [newEvent(c, 'MessageSent', at(100), 'live')]);
    await waitFor('the live event', () => out.lines.length === 3);
    stop.abort();

    await expect(replay).resolves.toEqual({ events: 3 });
    expect(JSON.parse(out.lines[2]).payload.body).toBe('live');
    expect(out.writableEnded).toBe(true);
  });
});
