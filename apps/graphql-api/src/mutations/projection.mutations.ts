import type { ApiContext } from '../api-context';
import { requestRebuild } from '../admin';
import type { ResolverKit } from '../graphql/resolver-kit';

/** `rebuildProjection`, for admins. */
export function projectionMutations({ api, requireAdmin }: ResolverKit) {
  return {
    Mutation: {
      rebuildProjection: async (_: unknown, args: { name: string }, context: ApiContext) => {
        requireAdmin(context, 'rebuildProjection');
        return requestRebuild(api.catalog, args.name);
      },
    },
  };
}
