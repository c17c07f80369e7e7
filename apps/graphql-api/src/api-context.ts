import type { ConversationRecord, MemberRecord } from '@parley/cassandra';
import type { ApiService } from './api.service';
import DataLoader from 'dataloader';
import { AuthenticationError, bearerToken, VerificationUnavailableError, type Viewer } from './auth/jwt';
import { apiError } from './errors';
import type { PresenceView } from './presence';

export type Authentication = Pick<ApiContext, 'viewer' | 'authError' | 'authCode'>;

/** Per request (or per subscription operation): who asks, and batched readers (no N+1). */
export interface ApiContext {
  readonly viewer: Viewer | null;
  readonly authError: string | null;
  /** UNAVAILABLE when the token could not be checked (the identity provider's keys out of reach). */
  readonly authCode: 'UNAUTHENTICATED' | 'UNAVAILABLE' | null;
  readonly conversations: DataLoader<string, ConversationRecord | null>;
  readonly members: DataLoader<string, MemberRecord[]>;
  /** Whether the viewer is a member, by conversation id (a point read, not the member list). */
  readonly viewerIsMember: DataLoader<string, boolean>;
  readonly presence: DataLoader<string, PresenceView>;
}

/** The context of a request (or a subscription operation), once its bearer token is verified. */
export async function createContext(api: ApiService, authorization: unknown): Promise<ApiContext> {
  return contextFor(api, await authenticate(api, authorization));
}

/** Who the bearer token names, or why nobody. */
export async function authenticate(api: ApiService, authorization: unknown): Promise<Authentication> {
  const token = bearerToken(authorization);
  if (!token) return { viewer: null, authError: 'Missing token: send `Authorization: Bearer <jwt>`', authCode: 'UNAUTHENTICATED' };
  try {
    return { viewer: await api.tokens.verify(token), authError: null, authCode: null };
  } catch (err) {
    if (err instanceof VerificationUnavailableError) return { viewer: null, authError: err.message, authCode: 'UNAVAILABLE' };
    return { viewer: null, authError: err instanceof AuthenticationError ? err.message : 'Invalid token', authCode: 'UNAUTHENTICATED' };
  }
}

export function contextFor(api: ApiService, { viewer, authError, authCode }: Authentication): ApiContext {
  // Each loader is made when first used: a subscription keeps its context while it is open.
  let conversations: ApiContext['conversations'] | undefined;
  let viewerIsMember: ApiContext['viewerIsMember'] | undefined;
  let members: ApiContext['members'] | undefined;
  let presence: ApiContext['presence'] | undefined;
  return {
    viewer,
    authError,
    authCode,
    get conversations() {
      return (conversations ??= new DataLoader((ids) => api.conversationRecords(ids)));
    },
    get viewerIsMember() {
      return (viewerIsMember ??= new DataLoader((ids) =>
        viewer ? api.read((r) => Promise.all(ids.map((id) => r.conversations.isMember(id, viewer!.userId)))) : Promise.resolve(ids.map(() => false)),
      ));
    },
    get members() {
      return (members ??= new DataLoader((ids) => api.read((r) => Promise.all(ids.map((id) => r.conversations.members(id))))));
    },
    // One Redis round trip for all members' presence in a response.
    get presence() {
      return (presence ??= new DataLoader((userIds) => api.presence.of(userIds)));
    },
  };
}

export function requireViewer(context: ApiContext): Viewer {
  if (!context.viewer) throw apiError(context.authCode ?? 'UNAUTHENTICATED', context.authError ?? 'Not authenticated');
  return context.viewer;
}
