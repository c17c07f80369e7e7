import type { ConversationEventType } from '@parley/domain';
import { encodeCursor } from './cursor';
import type { RecordedEvent } from './event-log.port';

/**
 * One event as analysts see it: the shape of every NDJSON line and CSV row the replay command
 * writes and of the GraphQL `EventRecord`. `cursor` is the public Cursor of the event's log
 * position, so a MessageSent record's cursor is its message's cursor.
 */
export interface EventRecord {
  readonly id: string;
  readonly type: ConversationEventType;
  readonly conversationId: string;
  readonly actorId: string;
  readonly occurredAt: string;
  readonly cursor: string;
  readonly partition: number;
  readonly offset: string;
  /** The event's own fields (its `data`), camelCase, as plain JSON. */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Column order of the CSV export; `payload` is written as a JSON string. */
export const EVENT_RECORD_COLUMNS = [
  'id',
  'type',
  'conversationId',
  'actorId',
  'occurredAt',
  'cursor',
  'partition',
  'offset',
  'payload',
] as const satisfies readonly (keyof EventRecord)[];

export function toEventRecord(e: RecordedEvent): EventRecord {
  return {
    id: e.metadata.eventId,
    type: e.event.type,
    conversationId: e.conversationId,
    actorId: e.metadata.actorId,
    occurredAt: e.metadata.occurredAt,
    cursor: encodeCursor(e.position, e.conversationId),
    partition: e.position.partition,
    offset: e.position.offset,
    payload: { ...e.event.data },
  };
}
