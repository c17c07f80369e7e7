import { createRemoteJWKSet, decodeProtectedHeader, errors as jose, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import jwt from 'jsonwebtoken';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { isUserId } from '@parley/domain';

export interface Viewer {
  readonly userId: string;
  readonly roles: ReadonlySet<string>;
  /** Epoch ms of the token's `exp`, if it has one. */
  readonly expiresAt?: number;
}

/** The token is not good: the client's to fix (UNAUTHENTICATED, close code 4401). */
export class AuthenticationError extends Error {}

/** The token could not be checked now (the identity provider's keys are out of reach): retry later. */
export class VerificationUnavailableError extends Error {}

/** How tokens are verified (docs/adr/0017). */
export interface TokenSettings {
  /** HS256 secret (UTF-8); empty: HS256 tokens are refused. */
  readonly secret: string;
  /** The identity provider's JSON Web Key Set; empty: only HS256 tokens are accepted. */
  readonly jwksUrl?: string;
  /** Required `iss` (every token), when set. */
  readonly issuer?: string;
  /** Required `aud` (every token), when set. */
  readonly audience?: string;
  /** Clock tolerance for `exp` and `nbf`. */
  readonly leewaySeconds: number;
  /** After fetching the key set, how long before a token naming an unknown key id makes it fetch again (default 30 s). */
  readonly jwksCooldownMs?: number;
}

/** Algorithms accepted from the JWKS (never `none`, never HS* there: a public key must not serve as an HMAC secret). */
export const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** How many verified tokens a verifier remembers (least recently used ones are dropped first). */
export const VERIFIED_TOKENS_CACHED = 5_000;

/** A token verified before, with what decides whether it is still good without checking its signature again. */
interface Verified {
  readonly viewer: Viewer;
  /** The `exp` and `nbf` claims (epoch seconds), if present. */
  readonly exp?: number;
  readonly nbf?: number;
}

/**
 * Verifies bearer tokens: HS256 with a shared secret (development, or services that sign their
 * own), and RS/PS/ES/EdDSA tokens of an OAuth 2.0 / OIDC provider against its JWKS (fetched by
 * jose, cached, fetched again when a token names a key id it does not hold, at most every 30 s).
 * `iss` and `aud` are required when configured. A token verified before is served from a
 * bounded cache, its `exp` and `nbf` still checked on every use; failures are never cached.
 */
export class TokenVerifier {
  private readonly secretKey?: KeyObject;
  private readonly jwks?: JWTVerifyGetKey;
  /** By token text, least recently used first (a Map keeps insertion order). */
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly settings: TokenSettings) {
    // Handed a Buffer, jsonwebtoken first tries it as a public key and catches the failure on every request.
    if (settings.secret) this.secretKey = createSecretKey(Buffer.from(settings.secret, 'utf8'));
    if (settings.jwksUrl) this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: settings.jwksCooldownMs ?? 30_000 });
  }

  /** The viewer the token names; synchronous when it was verified before (or is HS256). */
  verify(token: string): Viewer | Promise<Viewer> {
    const cached = this.fromCache(token);
    if (cached) return cached;
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AuthenticationError('Invalid token: jwt malformed');
    }
    if (alg === 'HS256') return this.verifyHs256(token);
    if (this.jwks && typeof alg === 'string' && JWKS_ALGORITHMS.includes(alg)) return this.verifyWithJwks(token);
    throw new AuthenticationError(`Invalid token: algorithm ${String(alg)} is not accepted`);
  }

  private verifyHs256(token: string): Viewer {
    if (!this.secretKey) throw new AuthenticationError('Invalid token: HS256 tokens are not accepted here (no JWT_SECRET)');
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, this.secretKey, {
        algorithms: ['HS256'],
        clockTolerance: this.settings.leewaySeconds,
        ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience ? { audience: this.settings.audience } : {}),
      }) as jwt.JwtPayload;
    } catch (err) {
      throw new AuthenticationError(`Invalid token: ${(err as Error).message}`);
    }
    return this.accept(token, claims);
  }

  private async verifyWithJwks(token: string): Promise<Viewer> {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.jwks!, {
        algorithms: JWKS_ALGORITHMS,
        clockTolerance: this.settings.leewaySeconds,
        ...(this.settings.issuer ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience ? { audience: this.settings.audience } : {}),
      }));
    } catch (err) {
      if (!(err instanceof jose.JOSEError) || err instanceof jose.JWKSTimeout || err instanceof jose.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC') {
        // Not the token's fault: no answer, not a key set, or not 200 OK.
        throw new VerificationUnavailableError(`The identity provider's keys (JWT_JWKS_URL) could not be read: ${(err as Error).message}`);
      }
      throw new AuthenticationError(`Invalid token: ${err.message}`);
    }
    return this.accept(token, claims);
  }

  private accept(token: string, claims: JWTPayload): Viewer {
    if (!isUserId(claims.sub)) throw new AuthenticationError('Invalid token: sub must be a user id (1-64 chars of [A-Za-z0-9_.@-])');
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
    const viewer: Viewer = { userId: claims.sub, roles: new Set(roles), ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp * 1000 } : {}) };
    // Both libraries refuse an exp or nbf that is not a number.
    this.remember(token, { viewer, exp: claims.exp, nbf: claims.nbf });
    return viewer;
  }

  private fromCache(token: string): Viewer | undefined {
    const entry = this.verified.get(token);
    if (!entry) return undefined;
    // As jsonwebtoken: whole seconds, `clockTolerance || 0`.
    const now = Math.floor(Date.now() / 1000);
    const tolerance = this.settings.leewaySeconds || 0;
    this.verified.delete(token);
    if ((entry.exp !== undefined && now >= entry.exp + tolerance) || (entry.nbf !== undefined && entry.nbf > now + tolerance)) {
      return undefined; // verified again, so the error is the library's own
    }
    this.verified.set(token, entry); // most recently used last
    return entry.viewer;
  }

  private remember(token: string, entry: Verified): void {
    this.verified.delete(token);
    if (this.verified.size >= VERIFIED_TOKENS_CACHED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, entry);
  }
}

/** Reads `Bearer <jwt>` from an Authorization header or a graphql-ws connection_init payload. */
export function bearerToken(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value.trim());
  return match?.[1];
}

export function signToken(userId: string, secret: string, roles: string[] = [], expiresIn: jwt.SignOptions['expiresIn'] = '12h'): string {
  return jwt.sign({ sub: userId, roles }, createSecretKey(Buffer.from(secret, 'utf8')), { algorithm: 'HS256', expiresIn });
}
