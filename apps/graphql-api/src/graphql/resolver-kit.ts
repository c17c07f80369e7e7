import type { InboxRecord } from '@parley/cassandra';
import { encodeCursor } from '@parley/event-log';
import { randomUUID } from 'node:crypto';
import { requireViewer, type ApiContext } from '../api-context';
import type { ApiService } from '../api.service';
import type { Viewer } from '../auth/jwt';
import { apiError, fromCommandError } from '../errors';
import { anyCursor } from './arguments';
import type { ConversationNode } from './nodes';

/** What the operations of every family share: the API's connections and the rules every one of them follows. */
export function resolverKit(api: ApiService) {
  /** A command's context: who acts, and ids to trace it by. */
  const command = (viewer: Viewer) => ({ actorId: viewer.userId, commandId: randomUUID(), correlationId: randomUUID() });

  /** Every mutation passes the caller's token bucket first (shared by all instances through Redis). */
  async function mutating(context: ApiContext): Promise<Viewer> {
    const viewer = requireViewer(context);
    const decision = await api.rateLimiter.take(viewer.userId);
    if (!decision.allowed) {
      throw apiError('RATE_LIMITED', `Too many mutations; retry in ${decision.retryAfterMs} ms`, { retryAfterMs: decision.retryAfterMs });
    }
    return viewer;
  }

  /** A command service call, its errors in the contract's codes. */
  async function call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw fromCommandError(err);
    }
  }

  /**
   * When the viewer joined the conversation, as its writer holds it now (acknowledged joins and
   * leaves included), or null when they are not a member: what a live subscription confirms itself with.
   */
  async function writerMembership(viewer: Viewer, conversationId: string): Promise<string | null> {
    const { member, joinedAt } = await call(() => api.commands.membership({ context: command(viewer), conversationId }));
    return member ? joinedAt : null;
  }

  /** Waits for the projections to include the `consistentWith` cursor, when one is given. */
  async function consistent(cursor: unknown): Promise<void> {
    const position = anyCursor(cursor, 'consistentWith');
    if (position && !(await api.waitForProjections(position))) {
      throw apiError('UNAVAILABLE', `The projections did not reach consistentWith within ${api.settings.api.consistencyTimeoutMs} ms; retry`);
    }
  }

  /**
   * The conversation if the viewer (required by the caller) is a member; null otherwise
   * (existence is not revealed), said only once the timeline has caught up with the log as it
   * stood when asked (UNAVAILABLE when it does not within the consistency timeout).
   */
  async function visibleConversation(context: ApiContext, id: string): Promise<ConversationNode | null> {
    const lookup = async () => {
      const [conversation, member] = await Promise.all([context.conversations.load(id), context.viewerIsMember.load(id)]);
      return conversation && member ? conversation : null;
    };
    const found = await lookup();
    if (found) return found;
    if (!(await api.timelineCaughtUp(id))) {
      throw apiError('UNAVAILABLE', `The read side did not catch up with the log within ${api.settings.api.consistencyTimeoutMs} ms to tell whether you can see conversation ${id}; retry`);
    }
    context.conversations.clear(id);
    context.viewerIsMember.clear(id);
    return lookup();
  }

  /** The visible conversation, or NOT_FOUND. */
  async function requireConversation(context: ApiContext, id: string): Promise<ConversationNode> {
    const conversation = await visibleConversation(context, id);
    if (!conversation) throw apiError('NOT_FOUND', `Conversation ${id} not found`);
    return conversation;
  }

  /** The contract's InboxEntry. */
  async function inboxEntryNode(context: ApiContext, record: InboxRecord) {
    const conversation = await context.conversations.load(record.conversationId);
    return {
      conversation,
      lastMessageId: record.lastMessageId,
      lastOffset: record.lastOffset,
      unreadCount: record.unreadCount,
      lastReadCursor: record.readOffset === null || !conversation ? null : encodeCursor({ partition: conversation.partition, offset: String(record.readOffset) }, record.conversationId),
      updatedAt: record.activityAt,
    };
  }

  function requireAdmin(context: ApiContext, operation: string): void {
    if (!requireViewer(context).roles.has('admin')) throw apiError('FORBIDDEN', `${operation} needs the admin role`);
  }

  return { api, command, mutating, call, writerMembership, consistent, visibleConversation, requireConversation, inboxEntryNode, requireAdmin };
}

export type ResolverKit = ReturnType<typeof resolverKit>;
