import type { ConversationRecord } from '@parley/cassandra';
import { requireViewer, type ApiContext } from '../api-context';
import { decodeInboxCursor, encodeInboxCursor, pageSize } from '../graphql/arguments';
import { messageNode } from '../graphql/nodes';
import type { ResolverKit } from '../graphql/resolver-kit';

const MAX_INBOX_PAGE = 100;

/** `inbox`: the viewer's conversations, most recently active first, and each entry's last message. */
export function inboxQueries({ api, consistent, inboxEntryNode }: ResolverKit) {
  return {
    Query: {
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
    },

    InboxEntry: {
      lastMessage: async (entry: { conversation: ConversationRecord | null; lastMessageId: string | null; lastOffset: bigint | null }) => {
        const { conversation, lastOffset } = entry;
        if (!conversation || lastOffset === null) return null;
        const page = await api.read((r) => r.timeline.page(conversation.id, { direction: 'backward', limit: 1, before: lastOffset + 1n }));
        return page.messages[0] ? messageNode(page.messages[0], conversation.partition) : null;
      },
    },
  };
}
