import { encodeCursor } from '@parley/event-log';
import type { ApiContext } from '../api-context';
import { apiError, badInput } from '../errors';
import { messageCursor } from '../graphql/arguments';
import type { ResolverKit } from '../graphql/resolver-kit';

/** `sendMessage` and `markRead`. */
export function messageMutations({ api, command, mutating, call, inboxEntryNode }: ResolverKit) {
  return {
    Mutation: {
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
    },
  };
}
