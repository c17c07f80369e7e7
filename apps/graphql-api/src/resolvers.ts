import type { ApiService } from './api.service';
import { resolverKit, type ResolverKit } from './graphql/resolver-kit';
import { scalarResolvers } from './graphql/scalars';
import { conversationMutations } from './mutations/conversation.mutations';
import { messageMutations } from './mutations/message.mutations';
import { projectionMutations } from './mutations/projection.mutations';
import { conversationQueries } from './queries/conversation.queries';
import { eventsQueries } from './queries/events.queries';
import { inboxQueries } from './queries/inbox.queries';
import { presenceQueries } from './queries/presence.queries';
import { projectionsQueries } from './queries/projections.queries';
import { inboxUpdatedSubscription } from './subscriptions/inbox-updated.subscription';
import { messageSentSubscription } from './subscriptions/message-sent.subscription';
import { presenceChangedSubscription } from './subscriptions/presence-changed.subscription';
import { projectionProgressSubscription } from './subscriptions/projection-progress.subscription';

/** Every operation family of the contract: one file each, under queries/, mutations/ and subscriptions/. */
const FAMILIES: ReadonlyArray<(kit: ResolverKit) => Record<string, object>> = [
  conversationQueries,
  inboxQueries,
  presenceQueries,
  eventsQueries,
  projectionsQueries,
  conversationMutations,
  messageMutations,
  projectionMutations,
  messageSentSubscription,
  inboxUpdatedSubscription,
  presenceChangedSubscription,
  projectionProgressSubscription,
];

/** Builds every resolver of the contract over the API's connections. */
export function buildResolvers(api: ApiService): Record<string, object> {
  const kit = resolverKit(api);
  const resolvers: Record<string, object> = { ...scalarResolvers() };
  for (const family of FAMILIES) {
    for (const [type, fields] of Object.entries(family(kit))) resolvers[type] = { ...resolvers[type], ...fields };
  }
  return resolvers;
}
