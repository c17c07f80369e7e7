import type { ConversationEvent, ConversationEventType } from '@parley/domain';
import type { EventLog, NewEvent } from '@parley/event-log';
import { Writable } from 'node:stream';

let sequence = 0;

/** A valid event of any type, dated `occurredAt`, with a unique id. */
export function newEvent(conversationId: string, type: ConversationEventType, occurredAt: string, body = `body ${sequence + 1}`): NewEvent {
  const n = ++sequence;
  const unique = `${Date.now().toString(36)}${n}`;
  const event: ConversationEvent = (() => {
    switch (type) {
      case 'ConversationCreated':
        return { type, data: { conversationId, kind: 'GROUP', title: 'Launch', createdBy: 'alice', memberIds: ['bob'], createdAt: occurredAt } };
      case 'UserJoined':
        return { type, data: { conversationId, userId: `user${n}`, joinedAt: occurredAt } };
      case 'UserLeft':
        return { type, data: { conversationId, userId: `user${n}`, leftAt: occurredAt } };
      case 'MessageSent':
        return { type, data: { conversationId, messageId: `m_${unique}`, clientMessageId: `c${n}`, senderId: 'alice', body, sentAt: occurredAt } };
      case 'ReadMarkerMoved':
        return { type, data: { conversationId, userId: 'bob', upTo: { partition: 0, offset: '0' }, movedAt: occurredAt } };
    }
  })();
  return { event, metadata: { eventId: `e_${unique}`, actorId: 'alice', occurredAt, causationId: `cmd-${n}`, correlationId: 'corr' } };
}

/** Valid group conversation ids, `perPartition` of them in each given partition of the log. */
export function conversationsOn(log: Pick<EventLog, 'partitionFor'>, partitions: readonly number[], perPartition = 1, salt = ''): string[][] {
  const found = partitions.map(() => [] as string[]);
  for (let i = 0; found.some((ids) => ids.length < perPartition); i++) {
    const id = `g_${(salt + i.toString(36)).padStart(26, '0').slice(-26)}`;
    const slot = partitions.indexOf(log.partitionFor(id));
    if (slot !== -1 && found[slot].length < perPartition) found[slot].push(id);
  }
  return found;
}

/** A Writable that keeps what it is given, as text. */
export class Collector extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }

  get lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '');
  }
}
