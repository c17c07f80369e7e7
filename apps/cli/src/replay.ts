import { CONVERSATION_EVENT_TYPES, isConversationEventType, isConversationId, type ConversationEventType } from '@parley/domain';
import { EVENT_RECORD_COLUMNS, readEvents, toEventRecord, type EventLog, type EventRecord, type EventStream, type ReadProgress, type RecordedEvent } from '@parley/event-log';
import { stringify } from 'csv-stringify';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const REPLAY_FORMATS = ['ndjson', 'csv'] as const;
export type ReplayFormat = (typeof REPLAY_FORMATS)[number];

export interface ReplayOptions {
  /** Inclusive; the start of the log without it. */
  readonly from?: Date;
  /** Exclusive; the end of the log when the replay starts without it. */
  readonly to?: Date;
  readonly types?: ReadonlySet<ConversationEventType>;
  readonly conversationId?: string;
  readonly format: ReplayFormat;
  readonly follow: boolean;
}

/** The options as commander hands them over: strings, not yet checked. */
export interface RawReplayOptions {
  readonly from?: string;
  readonly to?: string;
  readonly type?: readonly string[];
  readonly conversation?: string;
  readonly format?: string;
  readonly output?: string;
  readonly follow?: boolean;
}

/** The command line is wrong; the message says how. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// A date (midnight UTC), or a date and time with a zone: a time without one would be read in
// whatever zone the analyst's machine is in.
const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const ISO_DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/i;
const ISO_DATE_TIME_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

export function parseTime(flag: string, value: string): Date {
  if (ISO_DATE_TIME_WITHOUT_ZONE.test(value)) {
    throw new UsageError(`${flag} needs a time zone, e.g. ${value}Z for UTC (got ${JSON.stringify(value)})`);
  }
  const ms = ISO_DATE.test(value) || ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`${flag} must be an ISO-8601 time such as 2026-01-31 or 2026-01-31T09:30:00Z (got ${JSON.stringify(value)})`);
  }
  return new Date(ms);
}

/** Checks every option before anything is read; throws UsageError naming the flag. */
export function parseReplayOptions(raw: RawReplayOptions): ReplayOptions & { output?: string } {
  const format = (raw.format ?? 'ndjson') as ReplayFormat;
  if (!REPLAY_FORMATS.includes(format)) {
    throw new UsageError(`--format must be ${REPLAY_FORMATS.join(' or ')} (got ${JSON.stringify(format)})`);
  }
  const from = raw.from === undefined ? undefined : parseTime('--from', raw.from);
  const to = raw.to === undefined ? undefined : parseTime('--to', raw.to);
  if (from && to && from.getTime() >= to.getTime()) throw new UsageError('--from must be before --to');
  const follow = raw.follow === true;
  if (follow && to) throw new UsageError('--follow cannot be combined with --to: following has no end');
  let types: Set<ConversationEventType> | undefined;
  if (raw.type && raw.type.length > 0) {
    types = new Set();
    for (const type of raw.type.flatMap((t) => t.split(',')).map((t) => t.trim())) {
      if (!isConversationEventType(type)) {
        throw new UsageError(`--type ${JSON.stringify(type)} is not an event type; expected one of ${CONVERSATION_EVENT_TYPES.join(', ')}`);
      }
      types.add(type);
    }
  }
  const conversationId = raw.conversation;
  if (conversationId !== undefined && !isConversationId(conversationId)) {
    throw new UsageError(`--conversation ${JSON.stringify(conversationId)} is not a conversation id (g_... or d_... and 26 characters)`);
  }
  if (raw.output === '') throw new UsageError('--output needs a file name');
  return { from, to, types, conversationId, format, follow, ...(raw.output === undefined ? {} : { output: raw.output }) };
}

/** Characters of NDJSON handed to the output at once at most. */
const NDJSON_CHUNK_CHARS = 64 * 1024;

/**
 * One JSON object per line, handed on in chunks of the lines at hand: a chunk goes out when it is
 * full or when the next event is not yet read (so a followed log's events are written at once).
 * A stream write per line cost more than reading the event.
 */
export async function* ndjsonChunks(stream: EventStream): AsyncGenerator<string> {
  let chunk = '';
  for await (const event of stream) {
    chunk += `${JSON.stringify(toEventRecord(event))}\n`;
    if (chunk.length >= NDJSON_CHUNK_CHARS || !stream.ready()) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/** A header row, then one row per record in EVENT_RECORD_COLUMNS order; payload as a JSON string. RFC 4180 quoting. */
export function csvStringifier() {
  return stringify({
    header: true,
    columns: [...EVENT_RECORD_COLUMNS],
    cast: { object: (value) => JSON.stringify(value) },
  });
}

async function* recordsOf(events: AsyncIterable<RecordedEvent>): AsyncGenerator<EventRecord> {
  for await (const event of events) yield toEventRecord(event);
}

export interface ReplayHooks {
  /** Ends the replay early (with --follow, the normal way to end it): what was read is written, then it resolves. */
  readonly signal?: AbortSignal;
  /** Called every `progressIntervalMs` while reading, and once at the end. */
  readonly onProgress?: (progress: ReadProgress) => void;
  readonly progressIntervalMs?: number;
}

export interface ReplaySummary {
  readonly events: number;
}

/**
 * Writes the events of a range to `output`, one record per line, in the reader's order. The
 * output drives the pace: nothing more is read while `output` is full (stream.pipeline), so a
 * replay of any size runs in constant memory. Ends `output` when done.
 */
export async function runReplay(options: ReplayOptions, log: EventLog, output: Writable, hooks: ReplayHooks = {}): Promise<ReplaySummary> {
  const stream = readEvents(log, {
    from: options.from,
    to: options.to,
    types: options.types,
    conversationId: options.conversationId,
    follow: options.follow,
  });
  const { signal, onProgress, progressIntervalMs = 250 } = hooks;
  const stop = () => void stream.close();
  if (signal?.aborted) stop();
  signal?.addEventListener('abort', stop, { once: true });
  const report = () => {
    const progress = stream.progress();
    if (progress && onProgress) onProgress(progress);
  };
  const timer = onProgress ? setInterval(report, progressIntervalMs) : undefined;
  try {
    if (options.format === 'csv') {
      await pipeline(Readable.from(recordsOf(stream)), csvStringifier(), output);
    } else {
      await pipeline(Readable.from(ndjsonChunks(stream), { highWaterMark: 1 }), output);
    }
    report();
    return { events: stream.progress()?.delivered ?? 0 };
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', stop);
    await stream.close();
  }
}
