import { requireViewer, type ApiContext } from '../api-context';
import { badInput } from '../errors';
import { messageCursor, pageSize } from '../graphql/arguments';
import { messageNode, type ConversationNode } from '../graphql/nodes';
import type { ResolverKit } from '../graphql/resolver-kit';

const MAX_MESSAGES_PAGE = 200;
const DEFAULT_MESSAGES_PAGE = 50;

/** `conversation(id)`, and a conversation's members and pages of messages. */
export function conversationQueries({ api, consistent, visibleConversation }: ResolverKit) {
  return {
    Query: {
      conversation: async (_: unknown, args: { id: string; consistentWith?: string }, context: ApiContext) => {
        requireViewer(context);
        await consistent(args.consistentWith);
        return visibleConversation(context, args.id);
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
  };
}
