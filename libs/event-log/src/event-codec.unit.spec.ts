import type { ConversationEvent } from '@parley/domain';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { events as pb, Timestamp } from '@parley/proto';
import { decodeEvent, encodeEvent, EventDecodeError } from './event-codec';
import type { NewEvent } from './event-log.port';

const metadata = (eventId: string) => ({
  eventId,
  actorId: 'alice',
  occurredAt: '2026-11-22T08:20:13.123Z',
  causationId: 'cmd-1',
  correlationId: 'req-1',
});
const conversationId = 'g_0123456789abcdefghijklmnop';
const at = '2026-11-22T08:20:13.123Z';

const everyEvent: ConversationEvent[] = [
  { type: 'ConversationCreated', data: { conversationId, kind: 'GROUP', title: 'Lunch', createdBy: 'alice', memberIds: ['bob', 'carol'], createdAt: at } },
  { type: 'ConversationCreated', data: { conversationId, kind: 'DIRECT', title: null, createdBy: 'alice', memberIds: ['bob'], createdAt: at } },
  { type: 'UserJoined', data: { conversationId, userId: 'bob', joinedAt: at } },
  { type: 'UserLeft', data: { conversationId, userId: 'bob', leftAt: at } },
  { type: 'MessageSent', data: { conversationId, messageId: 'm_1', clientMessageId: 'c-1', senderId: 'alice', body: 'héllo 👋', sentAt: at } },
  { type: 'MessageSent', data: { conversationId, messageId: 'm_2', clientMessageId: 'c-2', senderId: 'alice', body: 'numbered', sentAt: at, seq: 2 } },
  { type: 'ReadMarkerMoved', data: { conversationId, userId: 'bob', upTo: { partition: 3, offset: '9007199254740993' }, movedAt: at } },
  { type: 'ReadMarkerMoved', data: { conversationId, userId: 'bob', upTo: { partition: 3, offset: '12' }, movedAt: at, upToSeq: 7 } },
  { type: 'ReadMarkerMoved', data: { conversationId, userId: 'bob', upTo: { partition: 3, offset: '2' }, movedAt: at, upToSeq: 0 } },
];

describe('event codec', () => {
  it.each(everyEvent.map((e) => [e.type, e]))('round-trips %s through protobuf', (_type, event) => {
    const input: NewEvent = { event, metadata: metadata('e-1') };
    expect(decodeEvent(encodeEvent(input))).toEqual({ ...input, conversationId, schemaVersion: 1 });
  });

  // Schema evolution (proto/README.md): fields are only ever added, tags never reused.
  it('decodes an event written before fields were added: they take their defaults', () => {
    // As an early writer would have: envelope tags 1-5 and the payload, no causation/correlation ids.
    const payload = pb.UserJoined.encode({ conversationId, userId: 'bob', joinedAt: at }).finish();
    const writer = new BinaryWriter();
    writer.uint32((1 << 3) | 2).string('e-old');
    writer.uint32((2 << 3) | 2).string('UserJoined');
    writer.uint32((3 << 3) | 2).string(conversationId);
    writer.uint32((4 << 3) | 2).string('bob');
    const ms = Date.parse(at);
    writer.uint32((5 << 3) | 2).bytes(Timestamp.encode({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 }).finish());
    writer.uint32((21 << 3) | 2).bytes(payload);
    const decoded = decodeEvent(writer.finish());
    expect(decoded.event).toEqual({ type: 'UserJoined', data: { conversationId, userId: 'bob', joinedAt: at } });
    expect(decoded.metadata).toEqual({ eventId: 'e-old', actorId: 'bob', occurredAt: at, causationId: '', correlationId: '' });
    expect(decoded.schemaVersion).toBe(0);
  });

  it('decodes an event written by a newer schema, ignoring the fields it does not know', () => {
    const bytes = encodeEvent({ event: everyEvent[4], metadata: metadata('e-new') });
    const writer = new BinaryWriter();
    writer.raw(bytes);
    writer.uint32((99 << 3) | 2).string('a field added later');
    expect(decodeEvent(writer.finish()).event).toEqual(everyEvent[4]);
  });

  it('refuses bytes that are not an event, saying why', () => {
    expect(() => decodeEvent(Buffer.from('not protobuf at all'))).toThrow(EventDecodeError);
    const unknownType = pb.EventEnvelope.encode({ ...pb.EventEnvelope.fromJSON({}), eventId: 'e-x', type: 'Teleported' }).finish();
    expect(() => decodeEvent(unknownType)).toThrow(/unknown type "Teleported"/);
  });
});
