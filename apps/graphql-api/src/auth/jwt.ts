import jwt from 'jsonwebtoken';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { isUserId } from '@parley/domain';

export interface Viewer {
  readonly userId: string;
  readonly roles: ReadonlySet<string>;
  /** Epoch ms of the token's `exp`, if it has one. */
  readonly expiresAt?: number;
}

export class AuthenticationError extends Error {}

/**
 * The HS256 key as a KeyObject, built once per secret. Handed a Buffer, jsonwebtoken first
 * tries it as a public key (crypto.createPublicKey) and catches the failure on every request.
 */
const keys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

/** A token verified before, with what decides whether it is still good without checking its signature again. */
interface Verified {
  readonly secret: string;
  readonly leewaySeconds: number;
  readonly viewer: Viewer;
  /** The `exp` and `nbf` claims (epoch seconds), if present. */
  readonly exp?: number;
  readonly nbf?: number;
}

/** How many verified tokens are remembered (least recently used ones are dropped first). */
export const VERIFIED_TOKENS_CACHED = 5_000;

/**
 * Verified tokens by token text, least recently used first (a Map keeps insertion order).
 * Only successes are stored; an entry serves only the same secret and leeway, and the time
 * claims are checked on every use exactly as jsonwebtoken checks them.
 */
const verified = new Map<string, Verified>();

function fromCache(token: string, secret: string, leewaySeconds: number): Viewer | undefined {
  const entry = verified.get(token);
  if (!entry) return undefined;
  if (entry.secret !== secret || entry.leewaySeconds !== leewaySeconds) return undefined;
  // As jsonwebtoken: whole seconds, `clockTolerance || 0`.
  const now = Math.floor(Date.now() / 1000);
  const tolerance = leewaySeconds || 0;
  if ((entry.exp !== undefined && now >= entry.exp + tolerance) || (entry.nbf !== undefined && entry.nbf > now + tolerance)) {
    verified.delete(token);
    return undefined; // verified again below, so the error is jsonwebtoken's own
  }
  verified.delete(token); // most recently used last
  verified.set(token, entry);
  return entry.viewer;
}

function remember(token: string, entry: Verified): void {
  verified.delete(token);
  if (verified.size >= VERIFIED_TOKENS_CACHED) verified.delete(verified.keys().next().value!);
  verified.set(token, entry);
}

/** Forgets every verified token (tests). */
export function clearVerifiedTokens(): void {
  verified.clear();
}

/**
 * HS256 only (alg none and every other algorithm refused), exp honoured with `leewaySeconds` of clock tolerance.
 * A token verified before with the same secret and leeway is served from a bounded cache, its
 * `exp` (and `nbf`) still checked on every call; failures are never cached.
 */
export function verifyToken(token: string, secret: string, leewaySeconds = 30): Viewer {
  const cached = fromCache(token, secret, leewaySeconds);
  if (cached) return cached;
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, secretKey(secret), { algorithms: ['HS256'], clockTolerance: leewaySeconds }) as jwt.JwtPayload;
  } catch (err) {
    throw new AuthenticationError(`Invalid token: ${(err as Error).message}`);
  }
  if (!isUserId(claims.sub)) throw new AuthenticationError('Invalid token: sub must be a user id (1-64 chars of [A-Za-z0-9_.@-])');
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  const viewer: Viewer = { userId: claims.sub, roles: new Set(roles), ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp * 1000 } : {}) };
  // jsonwebtoken refused any exp or nbf that is not a number.
  remember(token, { secret, leewaySeconds, viewer, exp: claims.exp, nbf: claims.nbf });
  return viewer;
}

/** Reads `Bearer <jwt>` from an Authorization header or a graphql-ws connection_init payload. */
export function bearerToken(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value.trim());
  return match?.[1];
}

export function signToken(userId: string, secret: string, roles: string[] = [], expiresIn: jwt.SignOptions['expiresIn'] = '12h'): string {
  return jwt.sign({ sub: userId, roles }, secretKey(secret), { algorithm: 'HS256', expiresIn });
}
