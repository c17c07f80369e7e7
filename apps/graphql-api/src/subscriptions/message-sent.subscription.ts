import { requireViewer, type ApiContext } from '../api-context';
import { apiError } from '../errors';
import { messageCursor } from '../graphql/arguments';
import { liveMessage, messageNode, type MessageNode } from '../graphql/nodes';
import type { ResolverKit } from '../graphql/resolver-kit';
import type { LiveMessage } from '../live/live-updates';
import { messageFeed, type FeedEnd, type TimelineSource } from '../live/message-feed';
import { noLongerMember, payloadOrEnd, type Ended } from './ended';

type Payload = { readonly messageSent: MessageNode };

/** One payload object per live message, whoever subscribes: the edge then executes each selection once per message (see edge/operations). */
const messagePayloads = new WeakMap<LiveMessage, Payload>();
function sharedMessagePayload(m: LiveMessage, partition: number): Payload {
  let payload = messagePayloads.get(m);
  if (!payload) messagePayloads.set(m, (payload = { messageSent: messageNode(m, partition) }));
  return payload;
}

/** What ends a feed, with the contract's code: the viewer left, or the subscriber must resume from a cursor. */
function feedEnded(conversationId: string, partition: number, end: FeedEnd): Ended {
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

/** `messageSent(conversationId, after)`: every message once, in order, gapless (live/message-feed). */
export function messageSentSubscription({ api, writerMembership, requireConversation }: ResolverKit) {
  return {
    Subscription: {
      messageSent: {
        resolve: payloadOrEnd<Payload, 'messageSent'>('messageSent'),
        subscribe: async (_: unknown, args: { conversationId: string; after?: string }, context: ApiContext) => {
          const viewer = requireViewer(context);
          const conversation = await requireConversation(context, args.conversationId);
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
          return messageFeed<Payload | Ended>({
            live: api.live,
            timeline,
            conversationId: conversation.id,
            viewerId: viewer.userId,
            membership: () => writerMembership(viewer, conversation.id),
            ...(after ? { after: BigInt(after.offset) } : {}),
            toPayload: (m) => sharedMessagePayload(m, partition),
            toEnd: (end) => feedEnded(conversation.id, partition, end),
            queueLimit: api.settings.api.subscriptionQueueLimit,
          });
        },
      },
    },
  };
}
