import jwt from 'jsonwebtoken';
import { AuthenticationError, bearerToken, signToken, verifyToken } from './jwt';

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

  it('reads bearer tokens', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
