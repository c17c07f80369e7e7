import type { ConversationKind } from './conversation.events';
import type { CreatedConversation } from './conversation.state';
import type { LogPosition } from './log-position';
import { MessageHistory } from './message-history';

/**
 * What a conversation's state keeps when it leaves memory (docs/adr/0016): everything deciding
 * needs but its recent messages. Restored, it holds none of them: a retry of a message, or a
 * read marker set on one, is looked up in the read model, as for any message older than the
 * window. A plain value (JSON as it is).
 */
export interface ConversationSnapshot {
  readonly conversationId: string;
  readonly kind: ConversationKind;
  readonly title: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  /** In join order. */
  readonly members: ReadonlyArray<{ readonly userId: string; readonly joinedAt: string; readonly readMarker: LogPosition | null }>;
  readonly messageCount: number;
  readonly lastMessagePosition: LogPosition | null;
}

export function snapshotOf(state: CreatedConversation): ConversationSnapshot {
  const { conversationId, kind, title, createdBy, createdAt, messageCount, lastMessagePosition } = state;
  const members = [...state.members.values()].map(({ userId, joinedAt, readMarker }) => ({ userId, joinedAt, readMarker }));
  return { conversationId, kind, title, createdBy, createdAt, members, messageCount, lastMessagePosition };
}

export function restoreConversation(snapshot: ConversationSnapshot): CreatedConversation {
  const { conversationId, kind, title, createdBy, createdAt, messageCount, lastMessagePosition } = snapshot;
  const messages = MessageHistory.allEvicted(messageCount > 0 ? lastMessagePosition : null);
  return {
    status: 'CREATED',
    conversationId,
    kind,
    title,
    createdBy,
    createdAt,
    members: new Map(snapshot.members.map((m) => [m.userId, { userId: m.userId, joinedAt: m.joinedAt, readMarker: m.readMarker }])),
    lastMessagePosition,
    messageCount,
    messageIds: messages.ids,
    messages,
  };
}
