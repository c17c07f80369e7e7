import type { Message } from 'kafkajs';
import { encodeEvent } from './event-codec';
import type { NewEvent } from './event-log.port';

/** The Kafka record of an event: keyed by its event id, timestamped when it occurred. */
export function toMessage(e: NewEvent, partition: number): Message {
  return {
    key: e.metadata.eventId,
    value: Buffer.from(encodeEvent(e)),
    partition,
    timestamp: String(Date.parse(e.metadata.occurredAt)),
    headers: { type: e.event.type, conversation_id: e.event.data.conversationId },
  };
}
