import { isConversationEventType, type ConversationEvent } from '@parley/domain';
import { events as pb } from '@parley/proto/events';
import type { EventMetadata, NewEvent } from './event-log.port';

/** Version of the payloads' meaning; the wire format itself only ever grows (proto/README.md). */
export const SCHEMA_VERSION = 1;

export class EventDecodeError extends Error {
  readonly retriable = false;
}

const KIND_TO_PB = { DIRECT: pb.ConversationKind.CONVERSATION_KIND_DIRECT, GROUP: pb.ConversationKind.CONVERSATION_KIND_GROUP } as const;

function payloadOf(event: ConversationEvent): pb.EventEnvelope['payload'] {
  switch (event.type) {
    case 'ConversationCreated': {
      const { title, kind, memberIds, ...rest } = event.data;
      return {
        $case: 'conversationCreated',
        value: { ...rest, kind: KIND_TO_PB[kind], memberIds: [...memberIds], ...(title === null ? {} : { title }) },
      };
    }
    case 'UserJoined':
      return { $case: 'userJoined', value: { ...event.data } };
    case 'UserLeft':
      return { $case: 'userLeft', value: { ...event.data } };
    case 'MessageSent': {
      const { seq, ...rest } = event.data;
      return { $case: 'messageSent', value: { ...rest, seq: String(seq ?? 0) } };
    }
    case 'ReadMarkerMoved': {
      const { upToSeq, ...rest } = event.data;
      return { $case: 'readMarkerMoved', value: { ...rest, upTo: { ...rest.upTo }, ...(upToSeq === undefined ? {} : { upToSeq: String(upToSeq) }) } };
    }
    default: {
      const unhandled: never = event;
      throw new Error(`Unhandled event ${JSON.stringify(unhandled)}`);
    }
  }
}

export function toEnvelope({ event, metadata }: NewEvent): pb.EventEnvelope {
  return {
    eventId: metadata.eventId,
    type: event.type,
    conversationId: event.data.conversationId,
    actorId: metadata.actorId,
    occurredAt: metadata.occurredAt,
    schemaVersion: SCHEMA_VERSION,
    causationId: metadata.causationId,
    correlationId: metadata.correlationId,
    payload: payloadOf(event),
  };
}

export const encodeEvent = (event: NewEvent): Uint8Array => pb.EventEnvelope.encode(toEnvelope(event)).finish();

function required<T>(value: T | undefined, what: string, eventId: string): T {
  if (value === undefined) throw new EventDecodeError(`Event ${eventId}: ${what} is missing`);
  return value;
}

function domainEventOf(envelope: pb.EventEnvelope): ConversationEvent {
  const { payload, eventId } = envelope;
  switch (payload?.$case) {
    case 'conversationCreated': {
      const v = payload.value;
      const kind = v.kind === pb.ConversationKind.CONVERSATION_KIND_DIRECT ? 'DIRECT' : v.kind === pb.ConversationKind.CONVERSATION_KIND_GROUP ? 'GROUP' : undefined;
      return {
        type: 'ConversationCreated',
        data: {
          conversationId: v.conversationId,
          kind: required(kind, `conversation kind ${v.kind}`, eventId),
          title: v.title ?? null,
          createdBy: v.createdBy,
          memberIds: v.memberIds,
          createdAt: required(v.createdAt, 'createdAt', eventId),
        },
      };
    }
    case 'userJoined':
      return { type: 'UserJoined', data: { ...payload.value, joinedAt: required(payload.value.joinedAt, 'joinedAt', eventId) } };
    case 'userLeft':
      return { type: 'UserLeft', data: { ...payload.value, leftAt: required(payload.value.leftAt, 'leftAt', eventId) } };
    case 'messageSent': {
      const { seq, ...rest } = payload.value;
      // 0: written before messages were numbered (their readers count them).
      return { type: 'MessageSent', data: { ...rest, sentAt: required(rest.sentAt, 'sentAt', eventId), ...(seq === '0' ? {} : { seq: Number(seq) }) } };
    }
    case 'readMarkerMoved': {
      const { upToSeq, ...v } = payload.value;
      return {
        type: 'ReadMarkerMoved',
        data: {
          ...v,
          upTo: required(v.upTo, 'upTo', eventId),
          movedAt: required(v.movedAt, 'movedAt', eventId),
          ...(upToSeq === undefined ? {} : { upToSeq: Number(upToSeq) }),
        },
      };
    }
    case undefined:
      throw new EventDecodeError(`Event ${eventId} (${envelope.type}) has no payload this version knows`);
    default: {
      const unhandled: never = payload;
      throw new EventDecodeError(`Unhandled payload ${JSON.stringify(unhandled)}`);
    }
  }
}

export interface DecodedEvent extends NewEvent {
  readonly conversationId: string;
  readonly schemaVersion: number;
}

export function decodeEvent(bytes: Uint8Array): DecodedEvent {
  let envelope: pb.EventEnvelope;
  try {
    envelope = pb.EventEnvelope.decode(bytes);
  } catch (err) {
    throw new EventDecodeError(`Not an EventEnvelope: ${(err as Error).message}`);
  }
  if (!isConversationEventType(envelope.type)) {
    throw new EventDecodeError(`Event ${envelope.eventId} has unknown type ${JSON.stringify(envelope.type)}`);
  }
  const metadata: EventMetadata = {
    eventId: envelope.eventId,
    actorId: envelope.actorId,
    occurredAt: required(envelope.occurredAt, 'occurredAt', envelope.eventId),
    causationId: envelope.causationId,
    correlationId: envelope.correlationId,
  };
  return {
    event: domainEventOf(envelope),
    metadata,
    conversationId: envelope.conversationId,
    schemaVersion: envelope.schemaVersion,
  };
}
