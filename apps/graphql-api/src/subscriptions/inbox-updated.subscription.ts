import { requireViewer, type ApiContext } from '../api-context';
import type { ResolverKit } from '../graphql/resolver-kit';
import { inboxFeed } from '../live/inbox-feed';

/** `inboxUpdated`: the viewer's inbox entries as they change (live/inbox-feed). */
export function inboxUpdatedSubscription({ api, inboxEntryNode }: ResolverKit) {
  return {
    Subscription: {
      inboxUpdated: {
        resolve: (entry: unknown) => entry,
        subscribe: (_: unknown, __: unknown, context: ApiContext) => {
          const viewer = requireViewer(context);
          return inboxFeed({
            live: api.live,
            userId: viewer.userId,
            conversationIds: () => api.read((r) => r.conversations.inboxConversationIds(viewer.userId)),
            toPayload: async (conversationId) => {
              const [record] = await api.read((r) => r.conversations.inboxEntries(viewer.userId, [conversationId]));
              return record ? inboxEntryNode(context, record) : undefined;
            },
          });
        },
      },
    },
  };
}
