import type { ConversationRecord, MemberRecord } from '@parley/cassandra';
import type { ApiService } from './api.service';
import DataLoader from 'dataloader';
import { AuthenticationError, bearerToken, verifyToken, type Viewer } from './auth/jwt';
import { apiError } from './errors';
import type { PresenceView } from './presence';

/** Per request (or per subscription operation): who asks, and batched readers (no N+1). */
export interface ApiContext {
  readonly viewer: Viewer | null;
  readonly authError: string | null;
  readonly conversations: DataLoader<string, ConversationRecord | null>;
  readonly members: DataLoader<string, MemberRecord[]>;
  /** Whether the viewer is a member, by conversation id (a point read, not the member list). */
  readonly viewerIsMember: DataLoader<string, boolean>;
  readonly presence: DataLoader<string, PresenceView>;
}

export function createContext(api: ApiService, authorization: unknown): ApiContext {
  let viewer: Viewer | null = null;
  let authError: string | null = 'Missing token: send `Authorization: Bearer <jwt>`';
  const token = bearerToken(authorization);
  if (token) {
    try {
      viewer = verifyToken(token, api.settings.api.jwtSecret, api.settings.api.jwtLeewaySeconds);
      authError = null;
    } catch (err) {
      authError = err instanceof AuthenticationError ? err.message : 'Invalid token';
    }
  }
  // Each loader is made when first used: a subscription keeps its context while it is open.
  let conversations: ApiContext['conversations'] | undefined;
  let viewerIsMember: ApiContext['viewerIsMember'] | undefined;
  let members: ApiContext['members'] | undefined;
  let presence: ApiContext['presence'] | undefined;
  return {
    viewer,
    authError,
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
  if (!context.viewer) throw apiError('UNAUTHENTICATED', context.authError ?? 'Not authenticated');
  return context.viewer;
}
