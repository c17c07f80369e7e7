import { requireViewer, type ApiContext } from '../api-context';
import type { ResolverKit } from '../graphql/resolver-kit';
import { mapIterator } from '../live/live-updates';

/** `inboxUpdated`: the viewer's inbox entries as they change. */
export function inboxUpdatedSubscription({ api, inboxEntryNode }: ResolverKit) {
  return {
    Subscription: {
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
    },
  };
}
