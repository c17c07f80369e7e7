import type { ApiContext } from '../api-context';
import { projectionStatusNode } from '../admin';
import type { ResolverKit } from '../graphql/resolver-kit';

/** `projections`: every projection's status, for admins. */
export function projectionsQueries({ api, requireAdmin }: ResolverKit) {
  return {
    Query: {
      projections: async (_: unknown, __: unknown, context: ApiContext) => {
        requireAdmin(context, 'projections');
        return (await api.catalog.statuses()).map(projectionStatusNode);
      },
    },
  };
}
