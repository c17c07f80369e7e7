import type { ApiContext } from '../api-context';
import { projectionProgress } from '../admin';
import { apiError } from '../errors';
import type { ResolverKit } from '../graphql/resolver-kit';

/** `projectionProgress(name)`: a projection's status while it changes, for admins. */
export function projectionProgressSubscription({ api, requireAdmin }: ResolverKit) {
  return {
    Subscription: {
      projectionProgress: {
        resolve: (status: unknown) => status,
        subscribe: async (_: unknown, args: { name: string }, context: ApiContext) => {
          requireAdmin(context, 'projectionProgress');
          if (!(await api.catalog.status(args.name))) throw apiError('NOT_FOUND', `No projection named ${JSON.stringify(args.name)}`);
          return projectionProgress(api.catalog, args.name);
        },
      },
    },
  };
}
