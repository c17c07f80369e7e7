import type { ConversationRecord, TimelineMessage } from '@parley/cassandra';
import { encodeCursor } from '@parley/event-log';
import type { LiveMessage } from '../live/live-updates';

/** The contract's Message. */
export interface MessageNode {
  id: string;
  clientMessageId: string;
  conversationId: string;
  senderId: string;
  body: string;
  sentAt: string;
  cursor: string;
}

/** The contract's Conversation (its members and messages are resolved by field). */
export interface ConversationNode extends ConversationRecord {
  /** Just created: its page of messages is empty by definition. */
  readonly fresh?: boolean;
}

export const messageNode = (m: TimelineMessage | LiveMessage, partition: number): MessageNode => ({
  id: m.id,
  clientMessageId: m.clientMessageId,
  conversationId: m.conversationId,
  senderId: m.senderId,
  body: m.body,
  sentAt: m.sentAt,
  cursor: encodeCursor({ partition, offset: String(m.offset) }, m.conversationId),
});

/** A timeline row as live feeds carry messages. */
export const liveMessage = (m: TimelineMessage, partition: number): LiveMessage => ({ ...m, partition, offset: String(m.offset), seq: Number(m.seq) });
