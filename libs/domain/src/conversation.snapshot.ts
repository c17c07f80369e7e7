import type { ConversationKind } from './conversation.events';
import type { CreatedConversation, SentMessage } from './conversation.state';
import type { LogPosition } from './log-position';
import { MessageHistory } from './message-history';

/**
 * What a conversation's state keeps when it leaves memory (docs/adr/0016): everything deciding
 * needs, its latest messages included (the window a state keeps, RECENT_MESSAGES), so that a
 * retry of one of them is answered from the restored state as from the one in memory; a retry
 * of an older one, or a read marker set on one, is looked up in the read model. A plain value
 * (JSON as it is).
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
  /** The latest messages, in log order (absent in snapshots without them: all of them count as evicted). */
  readonly messages?: readonly SentMessage[];
  /** Whether older messages than those left the window, and the position of the latest that did. */
  readonly hasEvicted?: boolean;
  readonly evictedThrough?: LogPosition | null;
}

export function snapshotOf(state: CreatedConversation): ConversationSnapshot {
  const { conversationId, kind, title, createdBy, createdAt, messageCount, lastMessagePosition } = state;
  const members = [...state.members.values()].map(({ userId, joinedAt, readMarker }) => ({ userId, joinedAt, readMarker }));
  const { hasEvicted, evictedThrough } = state.messages;
  return { conversationId, kind, title, createdBy, createdAt, members, messageCount, lastMessagePosition, messages: [...state.messages.values()], hasEvicted, evictedThrough };
}

export function restoreConversation(snapshot: ConversationSnapshot): CreatedConversation {
  const { conversationId, kind, title, createdBy, createdAt, messageCount, lastMessagePosition } = snapshot;
  const messages = snapshot.messages
    ? MessageHistory.restored(snapshot.messages, snapshot.hasEvicted ?? false, snapshot.evictedThrough ?? null)
    : MessageHistory.allEvicted(messageCount > 0 ? lastMessagePosition : null);
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
