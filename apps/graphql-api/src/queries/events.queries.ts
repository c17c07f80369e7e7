import { eventsPage, EventsQueryError } from '@parley/event-log';
import { requireViewer, type ApiContext } from '../api-context';
import { apiError, badInput } from '../errors';
import type { ResolverKit } from '../graphql/resolver-kit';

const DEFAULT_EVENTS_PAGE = 100;

interface EventsArgs {
  from?: string | null;
  to?: string | null;
  types?: string[] | null;
  conversationId?: string | null;
  first?: number | null;
  after?: string | null;
}

/** `events`: the log itself, for analysts. */
export function eventsQueries({ api }: ResolverKit) {
  return {
    Query: {
      events: async (_: unknown, args: EventsArgs, context: ApiContext) => {
        const viewer = requireViewer(context);
        if (!viewer.roles.has('analyst') && !viewer.roles.has('admin')) throw apiError('FORBIDDEN', 'events needs the analyst or admin role');
        const time = (value: string | null | undefined) => (value === undefined || value === null ? undefined : new Date(value));
        try {
          return await eventsPage(api.log, {
            from: time(args.from),
            to: time(args.to),
            types: args.types ?? undefined,
            conversationId: args.conversationId ?? undefined,
            first: args.first ?? DEFAULT_EVENTS_PAGE,
            after: args.after ?? undefined,
          });
        } catch (err) {
          if (err instanceof EventsQueryError) throw badInput(err.field, err.message);
          throw err;
        }
      },
    },
  };
}
