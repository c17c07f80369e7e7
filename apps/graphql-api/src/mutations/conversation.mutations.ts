import type { ApiContext } from '../api-context';
import { badInput } from '../errors';
import type { ConversationNode } from '../graphql/nodes';
import type { ResolverKit } from '../graphql/resolver-kit';

const MAX_MEMBER_IDS = 1000;

interface CreateConversationInput {
  kind: string;
  title?: string | null;
  memberIds: string[];
  clientConversationId?: string | null;
}

/** `createConversation`, `joinConversation`, `leaveConversation`. */
export function conversationMutations({ api, command, mutating, call }: ResolverKit) {
  return {
    Mutation: {
      createConversation: async (_: unknown, { input }: { input: CreateConversationInput }, context: ApiContext) => {
        const viewer = await mutating(context);
        if (input.memberIds.length > MAX_MEMBER_IDS) throw badInput('memberIds', `memberIds may name at most ${MAX_MEMBER_IDS} users (got ${input.memberIds.length})`);
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
        const node: ConversationNode = {
          id: c.id,
          kind: c.kind as 'DIRECT' | 'GROUP',
          title: c.title ?? null,
          createdBy: c.createdBy,
          createdAt: c.createdAt,
          partition: response.position?.partition ?? api.log.partitionFor(c.id),
          fresh: response.position !== undefined,
        };
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
    },
  };
}
