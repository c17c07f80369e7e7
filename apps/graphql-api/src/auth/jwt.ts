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

/** HS256 only (alg none and every other algorithm refused), exp honoured with `leewaySeconds` of clock tolerance. */
export function verifyToken(token: string, secret: string, leewaySeconds = 30): Viewer {
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, secretKey(secret), { algorithms: ['HS256'], clockTolerance: leewaySeconds }) as jwt.JwtPayload;
  } catch (err) {
    throw new AuthenticationError(`Invalid token: ${(err as Error).message}`);
  }
  if (!isUserId(claims.sub)) throw new AuthenticationError('Invalid token: sub must be a user id (1-64 chars of [A-Za-z0-9_.@-])');
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  return { userId: claims.sub, roles: new Set(roles), ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp * 1000 } : {}) };
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
