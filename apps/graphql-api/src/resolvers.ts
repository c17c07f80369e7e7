import type { ConversationRecord, InboxPosition, InboxRecord, TimelineMessage } from '@parley/cassandra';
import { GraphQLScalarType, Kind } from 'graphql';
import { randomUUID } from 'node:crypto';
import { requireViewer, type ApiContext } from './api-context';
import { projectionProgress, projectionStatusNode, requestRebuild } from './admin';
import type { ApiService } from './api.service';
import type { Viewer } from './auth/jwt';
import { cursorBelongsTo, decodeCursor, encodeCursor, eventsPage, EventsQueryError, type DecodedCursor } from '@parley/event-log';
import { apiError, badInput, fromCommandError } from './errors';
import { mapIterator, type LiveMessage } from './live/live-updates';
import { messageFeed, type FeedEnd, type TimelineSource } from './live/message-feed';
import { presenceFeed } from './live/presence-feed';
import type { PresenceView } from './presence';

const MAX_MESSAGES_PAGE = 200;
const MAX_INBOX_PAGE = 100;
const DEFAULT_MESSAGES_PAGE = 50;
const DEFAULT_EVENTS_PAGE = 100;

interface EventsArgs {
  from?: string | null;
  to?: string | null;
  types?: string[] | null;
  conversationId?: string | null;
  first?: number | null;
  after?: string | null;
}

const passThrough = (name: string, description: string) =>
  new GraphQLScalarType({
    name,
    description,
    serialize: (v) => v,
    parseValue: (v) => v,
    parseLiteral: (ast) => (ast.kind === Kind.STRING ? ast.value : undefined),
  });

interface MessageNode {
  id: string;
  clientMessageId: string;
  conversationId: string;
  senderId: string;
  body: string;
  sentAt: string;
  cursor: string;
}

interface ConversationNode extends ConversationRecord {
  /** Just created: its page of messages is empty by definition. */
  readonly fresh?: boolean;
}

const messageNode = (m: TimelineMessage | LiveMessage, partition: number): MessageNode => ({
  id: m.id,
  clientMessageId: m.clientMessageId,
  conversationId: m.conversationId,
  senderId: m.senderId,
  body: m.body,
  sentAt: m.sentAt,
  cursor: encodeCursor({ partition, offset: String(m.offset) }, m.conversationId),
});

function pageSize(value: unknown, field: string, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw badInput(field, `${field} must be between 1 and ${max} (got ${JSON.stringify(value)})`);
  }
  return value as number;
}

function messageCursor(value: unknown, field: string, conversationId: string): DecodedCursor | undefined {
  if (value === undefined || value === null) return undefined;
  const cursor = decodeCursor(String(value));
  if (!cursor) throw badInput(field, `${field} is not a valid cursor`);
  if (!cursorBelongsTo(cursor, conversationId)) throw badInput(field, `${field} is a cursor of another conversation`);
  return cursor;
}

function anyCursor(value: unknown, field: string): DecodedCursor | undefined {
  if (value === undefined || value === null) return undefined;
  const cursor = decodeCursor(String(value));
  if (!cursor) throw badInput(field, `${field} is not a valid cursor`);
  return cursor;
}

const encodeInboxCursor = (p: InboxPosition) => Buffer.from(JSON.stringify([p.activityAt, String(p.activityOffset), p.conversationId])).toString('base64url');
function decodeInboxCursor(value: unknown): InboxPosition | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    const [activityAt, offset, conversationId] = JSON.parse(Buffer.from(String(value), 'base64url').toString());
    if (typeof activityAt === 'string' && /^\d+$/.test(offset) && typeof conversationId === 'string') {
      return { activityAt, activityOffset: BigInt(offset), conversationId };
    }
  } catch {
    /* fall through */
  }
  throw badInput('after', 'after is not a valid inbox cursor');
}

/** One payload object per live message, whoever subscribes: the edge then executes each selection once per message (see edge/operations). */
const messagePayloads = new WeakMap<LiveMessage, { messageSent: MessageNode }>();
function sharedMessagePayload(m: LiveMessage, partition: number): { messageSent: MessageNode } {
  let payload = messagePayloads.get(m);
  if (!payload) messagePayloads.set(m, (payload = { messageSent: messageNode(m, partition) }));
  return payload;
}

type MessageSentPayload = { readonly messageSent: MessageNode } | { readonly ended: Error };
type PresenceChangedPayload = { readonly presence: PresenceView } | { readonly ended: Error };

const noLongerMember = (conversationId: string) =>
  apiError('FORBIDDEN', `You are no longer a member of conversation ${conversationId}; this subscription has ended`);

/** What ends a feed, as the subscriber's last payload: an error with the contract's code (the field's resolver throws it). */
function feedEnded(conversationId: string, partition: number, end: FeedEnd): MessageSentPayload {
  const error =
    end.reason === 'left'
      ? noLongerMember(conversationId)
      : apiError(
          'UNAVAILABLE',
          end.after
            ? 'Some messages could not be delivered in order; subscribe again with after: extensions.resumeAfter to get the rest'
            : 'Some messages could not be delivered in order; subscribe again to get the rest',
          end.after ? { resumeAfter: messageNode(end.after, partition).cursor } : {},
        );
  return { ended: error };
}

const liveMessage = (m: TimelineMessage, partition: number): LiveMessage => ({ ...m, partition, offset: String(m.offset), seq: Number(m.seq) });

function requireAdmin(context: ApiContext, operation: string): void {
  if (!requireViewer(context).roles.has('admin')) throw apiError('FORBIDDEN', `${operation} needs the admin role`);
}

/** Builds every resolver of the contract over the API's connections. */
export function buildResolvers(api: ApiService) {
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
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw fromCommandError(err);
    }
  };

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

  return {
    Cursor: passThrough('Cursor', 'Opaque position in the event log'),
    DateTime: passThrough('DateTime', 'ISO-8601 timestamp in UTC'),
    JSON: new GraphQLScalarType({ name: 'JSON', serialize: (v) => v, parseValue: (v) => v }),

    Query: {
      me: async (_: unknown, __: unknown, context: ApiContext) => (await api.presence.of([requireViewer(context).userId]))[0],
      conversation: async (_: unknown, args: { id: string; consistentWith?: string }, context: ApiContext) => {
        requireViewer(context);
        await consistent(args.consistentWith);
        return visibleConversation(context, args.id);
      },
      inbox: async (_: unknown, args: { first?: number; after?: string; consistentWith?: string }, context: ApiContext) => {
        const viewer = requireViewer(context);
        const first = pageSize(args.first, 'first', MAX_INBOX_PAGE) ?? 20;
        const after = decodeInboxCursor(args.after);
        await consistent(args.consistentWith);
        const page = await api.read((r) => r.conversations.inboxPage(viewer.userId, first, after));
        const edges = await Promise.all(
          page.entries.map(async (e) => ({
            cursor: encodeInboxCursor({ activityAt: e.activityAt, activityOffset: e.activityOffset, conversationId: e.conversationId }),
            node: await inboxEntryNode(context, e),
          })),
        );
        return {
          edges,
          pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: after !== undefined, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
        };
      },
      presence: async (_: unknown, args: { userIds: string[] }, context: ApiContext) => {
        requireViewer(context);
        if (args.userIds.length > 500) throw badInput('userIds', `userIds may name at most 500 users (got ${args.userIds.length})`);
        return api.presence.of(args.userIds);
      },
      events: async (_: unknown, args: EventsArgs, context: ApiContext) => {
        const viewer = requireViewer(context);
        if (!viewer.roles.has('analyst') && !viewer.roles.has('admin')) throw apiError('FORBIDDEN', 'events needs the analyst or admin role');
        const time = (value: string | null | undefined) => (value === undefined || value === null ? undefined : new Date(value));
        try {
          return await eventsPage(api.log, {
            from: time(args.from),
            to: time(args.to),
            types: args.types ?? undefined,
            conversationId: args.conversationId ?? undefined,
            first: args.first ?? DEFAULT_EVENTS_PAGE,
            after: args.after ?? undefined,
          });
        } catch (err) {
          if (err instanceof EventsQueryError) throw badInput(err.field, err.message);
          throw err;
        }
      },
      projections: async (_: unknown, __: unknown, context: ApiContext) => {
        requireAdmin(context, 'projections');
        return (await api.catalog.statuses()).map(projectionStatusNode);
      },
    },

    Conversation: {
      members: async (conversation: ConversationNode, _: unknown, context: ApiContext) => context.members.load(conversation.id),
      messages: async (conversation: ConversationNode, args: { first?: number; after?: string; last?: number; before?: string }) => {
        const first = pageSize(args.first, 'first', MAX_MESSAGES_PAGE);
        const last = pageSize(args.last, 'last', MAX_MESSAGES_PAGE);
        if (first !== undefined && last !== undefined) throw badInput('first', 'first and last cannot be used together');
        const after = messageCursor(args.after, 'after', conversation.id);
        const before = messageCursor(args.before, 'before', conversation.id);
        if (conversation.fresh) return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } };
        const page =
          first !== undefined || (after && last === undefined)
            ? await api.read((r) => r.timeline.page(conversation.id, { direction: 'forward', limit: first ?? DEFAULT_MESSAGES_PAGE, after: after && BigInt(after.offset) }))
            : await api.read((r) => r.timeline.page(conversation.id, { direction: 'backward', limit: last ?? DEFAULT_MESSAGES_PAGE, before: before && BigInt(before.offset) }));
        const edges = page.messages.map((m) => {
          const node = messageNode(m, conversation.partition);
          return { cursor: node.cursor, node };
        });
        return {
          edges,
          pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: page.hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
        };
      },
    },

    Member: {
      presence: (member: { userId: string }, _: unknown, context: ApiContext) => context.presence.load(member.userId),
    },

    InboxEntry: {
      lastMessage: async (entry: { conversation: ConversationRecord | null; lastMessageId: string | null; lastOffset: bigint | null }) => {
        const { conversation, lastOffset } = entry;
        if (!conversation || lastOffset === null) return null;
        const page = await api.read((r) => r.timeline.page(conversation.id, { direction: 'backward', limit: 1, before: lastOffset + 1n }));
        return page.messages[0] ? messageNode(page.messages[0], conversation.partition) : null;
      },
    },

    Mutation: {
      createConversation: async (
        _: unknown,
        { input }: { input: { kind: string; title?: string | null; memberIds: string[]; clientConversationId?: string | null } },
        context: ApiContext,
      ) => {
        const viewer = await mutating(context);
        if (input.memberIds.length > 1000) throw badInput('memberIds', `memberIds may name at most 1000 users (got ${input.memberIds.length})`);
        const response = await call(() =>
          api.commands.createConversation({
            context: command(viewer),
            kind: input.kind,
            title: input.title ?? undefined,
            memberIds: input.memberIds,
            clientConversationId: input.clientConversationId ?? undefined,
          }),
        );
        const c = response.conversation!;
        const members = c.members.map((m) => ({ userId: m.userId, joinedAt: m.joinedAt }));
        if (!response.position) {
          // An existing conversation (DIRECT, or a GROUP created again with its key): nothing was written.
          const existing = await context.conversations.load(c.id);
          if (existing) {
            context.members.prime(c.id, members);
            return existing;
          }
        }
        const node: ConversationNode = { id: c.id, kind: c.kind as 'DIRECT' | 'GROUP', title: c.title ?? null, createdBy: c.createdBy, createdAt: c.createdAt, partition: response.position?.partition ?? api.log.partitionFor(c.id), fresh: response.position !== undefined };
        context.conversations.prime(c.id, node);
        context.members.prime(c.id, members);
        return node;
      },
      joinConversation: async (_: unknown, args: { conversationId: string }, context: ApiContext) => {
        const viewer = await mutating(context);
        const response = await call(() => api.commands.joinConversation({ context: command(viewer), conversationId: args.conversationId }));
        return response.member;
      },
      leaveConversation: async (_: unknown, args: { conversationId: string }, context: ApiContext) => {
        const viewer = await mutating(context);
        await call(() => api.commands.leaveConversation({ context: command(viewer), conversationId: args.conversationId }));
        return true;
      },
      sendMessage: async (_: unknown, { input }: { input: { conversationId: string; body: string; clientMessageId: string } }, context: ApiContext) => {
        const viewer = await mutating(context);
        const { message } = await call(() => api.commands.sendMessage({ context: command(viewer), ...input }));
        const m = message!;
        return { ...m, cursor: encodeCursor(m.position!, m.conversationId) };
      },
      markRead: async (_: unknown, args: { conversationId: string; upTo: string }, context: ApiContext) => {
        const viewer = await mutating(context);
        const upTo = messageCursor(args.upTo, 'upTo', args.conversationId);
        if (!upTo) throw badInput('upTo', 'upTo is required');
        const response = await call(() =>
          api.commands.markRead({ context: command(viewer), conversationId: args.conversationId, upTo: { partition: upTo.partition, offset: upTo.offset } }),
        );
        await api.waitForProjections(response.position ?? response.readMarker ?? upTo);
        const [record] = await api.read((r) => r.conversations.inboxEntries(viewer.userId, [args.conversationId]));
        if (!record) throw apiError('NOT_FOUND', `Conversation ${args.conversationId} not found`);
        return inboxEntryNode(context, record);
      },
      rebuildProjection: async (_: unknown, args: { name: string }, context: ApiContext) => {
        requireAdmin(context, 'rebuildProjection');
        return requestRebuild(api.catalog, args.name);
      },
    },

    Subscription: {
      messageSent: {
        resolve: (payload: MessageSentPayload) => {
          if ('ended' in payload) throw payload.ended;
          return payload.messageSent;
        },
        subscribe: async (_: unknown, args: { conversationId: string; after?: string }, context: ApiContext) => {
          const viewer = requireViewer(context);
          const conversation = await visibleConversation(context, args.conversationId);
          if (!conversation) throw apiError('NOT_FOUND', `Conversation ${args.conversationId} not found`);
          const after = messageCursor(args.after, 'after', conversation.id);
          const { partition } = conversation;
          const timeline: TimelineSource = {
            head: async (id) => {
              const page = await api.read((r) => r.timeline.page(id, { direction: 'backward', limit: 1 }));
              return page.messages[0] ? liveMessage(page.messages[0], partition) : null;
            },
            after: async (id, offset, limit) => {
              const page = await api.read((r) => r.timeline.page(id, { direction: 'forward', limit, after: offset }));
              return { messages: page.messages.map((m) => liveMessage(m, partition)), more: page.hasNextPage };
            },
          };
          return messageFeed<MessageSentPayload>({
            live: api.live,
            timeline,
            conversationId: conversation.id,
            viewerId: viewer.userId,
            ...(after ? { after: BigInt(after.offset) } : {}),
            toPayload: (m) => sharedMessagePayload(m, partition),
            toEnd: (end) => feedEnded(conversation.id, partition, end),
          });
        },
      },
      inboxUpdated: {
        resolve: (entry: unknown) => entry,
        subscribe: (_: unknown, __: unknown, context: ApiContext) => {
          const viewer = requireViewer(context);
          // Removals (the user left) are not sent: an InboxEntry cannot describe them.
          return mapIterator(api.live.iterate('inbox', viewer.userId), async (change) => {
            if (change.removed) return undefined;
            const [record] = await api.read((r) => r.conversations.inboxEntries(viewer.userId, [change.conversationId]));
            return record ? inboxEntryNode(context, record) : undefined;
          });
        },
      },
      presenceChanged: {
        resolve: (payload: PresenceChangedPayload) => {
          if ('ended' in payload) throw payload.ended;
          return payload.presence;
        },
        subscribe: async (_: unknown, args: { conversationId: string }, context: ApiContext) => {
          const viewer = requireViewer(context);
          const conversation = await visibleConversation(context, args.conversationId);
          if (!conversation) throw apiError('NOT_FOUND', `Conversation ${args.conversationId} not found`);
          return presenceFeed<PresenceChangedPayload>({
            live: api.live,
            conversationId: conversation.id,
            viewerId: viewer.userId,
            isMember: (userId) => api.isMember(conversation.id, userId),
            toPayload: (presence) => ({ presence }),
            toEnd: () => ({ ended: noLongerMember(conversation.id) }),
          });
        },
      },
      projectionProgress: {
        resolve: (status: unknown) => status,
        subscribe: async (_: unknown, args: { name: string }, context: ApiContext) => {
          requireAdmin(context, 'projectionProgress');
          if (!(await api.catalog.status(args.name))) throw apiError('NOT_FOUND', `No projection named ${JSON.stringify(args.name)}`);
          return projectionProgress(api.catalog, args.name);
        },
      },
    },
  };
}
