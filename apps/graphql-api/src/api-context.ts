import type { ConversationReader, ConversationRecord, MemberRecord } from '@parley/cassandra';
import DataLoader from 'dataloader';
import { AuthenticationError, bearerToken, verifyToken, type Viewer } from './auth/jwt';
import { apiError } from './errors';
import type { Presence, PresenceView } from './presence';

/** Per request (or per subscription operation): who asks, and batched readers (no N+1). */
export interface ApiContext {
  readonly viewer: Viewer | null;
  readonly authError: string | null;
  readonly conversations: DataLoader<string, ConversationRecord | null>;
  readonly members: DataLoader<string, MemberRecord[]>;
  readonly presence: DataLoader<string, PresenceView>;
}

export function createContext(reader: ConversationReader, presence: Presence, authorization: unknown, jwtSecret: string): ApiContext {
  let viewer: Viewer | null = null;
  let authError: string | null = 'Missing token: send `Authorization: Bearer <jwt>`';
  const token = bearerToken(authorization);
  if (token) {
    try {
      viewer = verifyToken(token, jwtSecret);
      authError = null;
    } catch (err) {
      authError = err instanceof AuthenticationError ? err.message : 'Invalid token';
    }
  }
  return {
    viewer,
    authError,
    conversations: new DataLoader((ids) => reader.conversations(ids)),
    members: new DataLoader((ids) => Promise.all(ids.map((id) => reader.members(id)))),
    // One Redis round trip for all members' presence in a response.
    presence: new DataLoader((userIds) => presence.of(userIds)),
  };
}

export function requireViewer(context: ApiContext): Viewer {
  if (!context.viewer) throw apiError('UNAUTHENTICATED', context.authError ?? 'Not authenticated');
  return context.viewer;
}
