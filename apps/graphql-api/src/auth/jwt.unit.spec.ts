import jwt from 'jsonwebtoken';
import { AuthenticationError, bearerToken, clearVerifiedTokens, signToken, verifyToken } from './jwt';

const SECRET = 'unit-secret-0123456789';

describe('tokens', () => {
  it('accepts an HS256 token and reads sub, roles and exp', () => {
    const viewer = verifyToken(signToken('alice', SECRET, ['admin']), SECRET);
    expect(viewer.userId).toBe('alice');
    expect([...viewer.roles]).toEqual(['admin']);
    expect(viewer.expiresAt).toBeGreaterThan(Date.now());
  });

  it.each([
    ['another secret', () => signToken('alice', 'another-secret-0123456789')],
    ['alg none', () => jwt.sign({ sub: 'alice' }, '', { algorithm: 'none' })],
    ['HS512', () => jwt.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS512' })],
    ['an expired token beyond the 30 s leeway', () => jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 }, SECRET)],
    ['a sub that is not a user id', () => jwt.sign({ sub: 'has space' }, SECRET)],
  ])('refuses %s', (_what, make) => {
    expect(() => verifyToken(make(), SECRET)).toThrow(AuthenticationError);
  });

  it('honours the 30 s leeway on exp', () => {
    const token = jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 10 }, SECRET);
    expect(verifyToken(token, SECRET).userId).toBe('alice');
  });

  describe('the cache of verified tokens', () => {
    beforeEach(() => clearVerifiedTokens());
    afterEach(() => jest.restoreAllMocks());

    it('serves a token verified before, still expiring it after exp plus the leeway', () => {
      const now = Date.now();
      const token = jwt.sign({ sub: 'alice', exp: Math.floor(now / 1000) + 5 }, SECRET);
      const first = verifyToken(token, SECRET);
      expect(verifyToken(token, SECRET)).toBe(first); // from the cache
      jest.spyOn(Date, 'now').mockReturnValue(now + 30_000); // exp passed, within the 30 s leeway
      expect(verifyToken(token, SECRET)).toBe(first);
      jest.spyOn(Date, 'now').mockReturnValue(now + 36_000); // beyond exp + 30 s
      expect(() => verifyToken(token, SECRET)).toThrow(new AuthenticationError('Invalid token: jwt expired'));
      expect(() => verifyToken(token, SECRET, 0)).toThrow(AuthenticationError);
    });

    it('applies the leeway of each call, not the one the token was cached with', () => {
      const token = jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 10 }, SECRET);
      expect(verifyToken(token, SECRET, 30).userId).toBe('alice');
      expect(() => verifyToken(token, SECRET, 0)).toThrow(new AuthenticationError('Invalid token: jwt expired'));
      expect(verifyToken(token, SECRET, 30).userId).toBe('alice');
    });

    it('does not serve a token verified with one secret to a check with another', () => {
      const token = signToken('alice', SECRET);
      expect(verifyToken(token, SECRET).userId).toBe('alice');
      expect(() => verifyToken(token, 'another-secret-0123456789')).toThrow(new AuthenticationError('Invalid token: invalid signature'));
      expect(verifyToken(token, SECRET).userId).toBe('alice');
    });

    it('never caches a failure', () => {
      const token = signToken('alice', SECRET);
      expect(() => verifyToken(token, 'another-secret-0123456789')).toThrow(AuthenticationError);
      expect(verifyToken(token, SECRET).userId).toBe('alice');
      const notYet = jwt.sign({ sub: 'alice', nbf: Math.floor(Date.now() / 1000) + 120 }, SECRET);
      expect(() => verifyToken(notYet, SECRET)).toThrow(new AuthenticationError('Invalid token: jwt not active'));
      expect(() => verifyToken(notYet, SECRET)).toThrow(new AuthenticationError('Invalid token: jwt not active'));
    });
  });

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
