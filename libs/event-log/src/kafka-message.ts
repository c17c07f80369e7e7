import type { KafkaMessage, Message } from 'kafkajs';
import { decodeEvent, encodeEvent, EventDecodeError } from './event-codec';
import type { NewEvent, RecordedEvent } from './event-log.port';

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

/**
 * The event a Kafka record holds, or undefined for a tombstone (the erased event is gone). A
 * record that does not decode throws an EventDecodeError saying where it is: a reader never
 * skips an event.
 */
export function fromMessage(topic: string, partition: number, message: KafkaMessage): RecordedEvent | undefined {
  if (message.value === null) return undefined;
  try {
    return { ...decodeEvent(message.value), position: { partition, offset: message.offset } };
  } catch (err) {
    throw new EventDecodeError(`${topic} partition ${partition} offset ${message.offset}: ${(err as Error).message}`);
  }
}
