import { requireViewer, type ApiContext } from '../api-context';
import type { ResolverKit } from '../graphql/resolver-kit';
import { presenceFeed } from '../live/presence-feed';
import type { PresenceView } from '../presence';
import { noLongerMember, payloadOrEnd, type Ended } from './ended';

type Payload = { readonly presence: PresenceView };

/** `presenceChanged(conversationId)`: members coming online and going offline, until the viewer leaves. */
export function presenceChangedSubscription({ api, writerMembership, requireConversation }: ResolverKit) {
  return {
    Subscription: {
      presenceChanged: {
        resolve: payloadOrEnd<Payload, 'presence'>('presence'),
        subscribe: async (_: unknown, args: { conversationId: string }, context: ApiContext) => {
          const viewer = requireViewer(context);
          const conversation = await requireConversation(context, args.conversationId);
          return presenceFeed<Payload | Ended>({
            live: api.live,
            conversationId: conversation.id,
            viewerId: viewer.userId,
            isMember: (userId) => api.isMember(conversation.id, userId),
            membership: () => writerMembership(viewer, conversation.id),
            toPayload: (presence) => ({ presence }),
            toEnd: () => ({ ended: noLongerMember(conversation.id) }),
          });
        },
      },
    },
  };
}
