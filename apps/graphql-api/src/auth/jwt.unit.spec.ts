import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import jwt from 'jsonwebtoken';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthenticationError, bearerToken, signToken, TokenVerifier, VerificationUnavailableError, type TokenSettings } from './jwt';

const SECRET = 'unit-secret-0123456789';
const hs256 = (settings: Partial<TokenSettings> = {}) => new TokenVerifier({ secret: SECRET, leewaySeconds: 30, ...settings });
const verify = (token: string, settings: Partial<TokenSettings> = {}) => hs256(settings).verify(token);

describe('tokens', () => {
  it('accepts an HS256 token and reads sub, roles and exp', () => {
    const viewer = verify(signToken('alice', SECRET, ['admin']));
    expect(viewer).not.toBeInstanceOf(Promise); // HS256 is checked synchronously
    expect('userId' in viewer && viewer.userId).toBe('alice');
    expect('roles' in viewer && [...viewer.roles]).toEqual(['admin']);
    expect('expiresAt' in viewer && viewer.expiresAt).toBeGreaterThan(Date.now());
  });

  it.each([
    ['another secret', () => signToken('alice', 'another-secret-0123456789')],
    ['alg none', () => jwt.sign({ sub: 'alice' }, '', { algorithm: 'none' })],
    ['HS512', () => jwt.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS512' })],
    ['an expired token beyond the 30 s leeway', () => jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 }, SECRET)],
    ['a sub that is not a user id', () => jwt.sign({ sub: 'has space' }, SECRET)],
    ['something that is not a JWT', () => 'not-a-token'],
  ])('refuses %s', (_what, make) => {
    expect(() => verify(make())).toThrow(AuthenticationError);
  });

  it('honours the leeway on exp', () => {
    const token = jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 10 }, SECRET);
    expect(verify(token)).toMatchObject({ userId: 'alice' });
    expect(() => verify(token, { leewaySeconds: 0 })).toThrow(new AuthenticationError('Invalid token: jwt expired'));
  });

  it('requires the configured issuer and audience of HS256 tokens too', () => {
    const settings = { issuer: 'https://id.example', audience: 'parley' };
    expect(() => verify(signToken('alice', SECRET), settings)).toThrow(AuthenticationError);
    const token = jwt.sign({ sub: 'alice', iss: 'https://id.example', aud: 'parley' }, SECRET);
    expect(verify(token, settings)).toMatchObject({ userId: 'alice' });
    expect(() => verify(token, { ...settings, audience: 'another' })).toThrow(new AuthenticationError('Invalid token: jwt audience invalid. expected: another'));
  });

  it('refuses HS256 tokens when there is no secret, and asymmetric ones when there is no key set', () => {
    expect(() => verify(signToken('alice', SECRET), { secret: '' })).toThrow(new AuthenticationError('Invalid token: HS256 tokens are not accepted here (no JWT_SECRET)'));
    const rs256 = jwt.sign({ sub: 'alice' }, 'x'.repeat(32), { algorithm: 'HS384' });
    expect(() => verify(rs256)).toThrow(new AuthenticationError('Invalid token: algorithm HS384 is not accepted'));
  });

  describe('the cache of verified tokens', () => {
    afterEach(() => jest.restoreAllMocks());

    it('serves a token verified before, still expiring it after exp plus the leeway', () => {
      const verifier = hs256();
      const now = Date.now();
      const token = jwt.sign({ sub: 'alice', exp: Math.floor(now / 1000) + 5 }, SECRET);
      const first = verifier.verify(token);
      expect(verifier.verify(token)).toBe(first); // from the cache
      jest.spyOn(Date, 'now').mockReturnValue(now + 30_000); // exp passed, within the 30 s leeway
      expect(verifier.verify(token)).toBe(first);
      jest.spyOn(Date, 'now').mockReturnValue(now + 36_000); // beyond exp + 30 s
      expect(() => verifier.verify(token)).toThrow(new AuthenticationError('Invalid token: jwt expired'));
    });

    it('never caches a failure', () => {
      const verifier = hs256();
      const notYet = jwt.sign({ sub: 'alice', nbf: Math.floor(Date.now() / 1000) + 120 }, SECRET);
      expect(() => verifier.verify(notYet)).toThrow(new AuthenticationError('Invalid token: jwt not active'));
      expect(() => verifier.verify(notYet)).toThrow(new AuthenticationError('Invalid token: jwt not active'));
    });
  });

  describe("an identity provider's key set (JWKS), served on 127.0.0.1", () => {
    let server: Server;
    let url: string;
    let keys: JWK[] = [];
    let served = 0;
    let rsa: { privateKey: KeyLike; publicKey: KeyLike };
    let ec: { privateKey: KeyLike; publicKey: KeyLike };
    const ISSUER = 'https://id.example';
    const jwks = (settings: Partial<TokenSettings> = {}) => hs256({ jwksUrl: url, issuer: ISSUER, audience: 'parley', ...settings });
    const sign = (key: KeyLike, alg: string, kid: string, claims: Record<string, unknown> = {}) =>
      new SignJWT({ roles: ['reader'], sub: 'carol', iss: ISSUER, aud: 'parley', ...claims }).setProtectedHeader({ alg, kid }).setExpirationTime('1h').sign(key);

    beforeAll(async () => {
      rsa = await generateKeyPair('RS256');
      ec = await generateKeyPair('ES256');
      keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' }];
      server = createServer((_req, res) => {
        served++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('accepts an RS256 token of the issuer for the audience, and fetches the keys once', async () => {
      const verifier = jwks();
      const before = served;
      await expect(verifier.verify(await sign(rsa.privateKey, 'RS256', 'rsa-1'))).resolves.toMatchObject({ userId: 'carol', roles: new Set(['reader']) });
      await expect(verifier.verify(await sign(rsa.privateKey, 'RS256', 'rsa-1', { jti: 'another' }))).resolves.toMatchObject({ userId: 'carol' });
      expect(served - before).toBe(1);
    });

    it('finds a key added later by its key id (a rotation), fetching the set again', async () => {
      const verifier = jwks({ jwksCooldownMs: 0 });
      await verifier.verify(await sign(rsa.privateKey, 'RS256', 'rsa-1'));
      keys = [...keys, { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' }];
      await expect(verifier.verify(await sign(ec.privateKey, 'ES256', 'ec-1'))).resolves.toMatchObject({ userId: 'carol' });
    });

    it.each([
      ['another issuer', () => sign(rsa.privateKey, 'RS256', 'rsa-1', { iss: 'https://evil.example' })],
      ['another audience', () => sign(rsa.privateKey, 'RS256', 'rsa-1', { aud: 'someone-else' })],
      ['an unknown key id', () => sign(rsa.privateKey, 'RS256', 'nobody')],
      ['a key of the set signing as another key id', () => sign(ec.privateKey, 'ES256', 'rsa-1')],
      ['a token signed with the public key as an HMAC secret', async () => jwt.sign({ sub: 'carol', iss: ISSUER, aud: 'parley' }, JSON.stringify(keys[0]), { algorithm: 'HS256' })],
    ])('refuses %s', async (_what, make) => {
      const verifier = jwks();
      await expect(Promise.resolve().then(async () => verifier.verify(await make()))).rejects.toThrow(AuthenticationError);
    });

    it('says the keys are out of reach (not that the token is bad) when the key set cannot be fetched', async () => {
      const verifier = jwks({ jwksUrl: 'http://127.0.0.1:1/jwks.json' });
      await expect(Promise.resolve().then(async () => verifier.verify(await sign(rsa.privateKey, 'RS256', 'rsa-1')))).rejects.toThrow(VerificationUnavailableError);
    });
  });

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
