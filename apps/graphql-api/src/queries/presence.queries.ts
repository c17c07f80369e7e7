import { requireViewer, type ApiContext } from '../api-context';
import { badInput } from '../errors';
import type { ResolverKit } from '../graphql/resolver-kit';

const MAX_PRESENCE_IDS = 500;

/** `me` and `presence(userIds)`: who is online. */
export function presenceQueries({ api }: ResolverKit) {
  return {
    Query: {
      me: async (_: unknown, __: unknown, context: ApiContext) => (await api.presence.of([requireViewer(context).userId]))[0],
      presence: async (_: unknown, args: { userIds: string[] }, context: ApiContext) => {
        requireViewer(context);
        if (args.userIds.length > MAX_PRESENCE_IDS) throw badInput('userIds', `userIds may name at most ${MAX_PRESENCE_IDS} users (got ${args.userIds.length})`);
        return api.presence.of(args.userIds);
      },
    },
  };
}
