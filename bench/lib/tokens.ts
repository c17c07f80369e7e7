import jwt from 'jsonwebtoken';

/** A client token as the API expects it (HS256, `sub` and `roles`), cached per user. */
export class Tokens {
  private readonly cache = new Map<string, string>();

  constructor(private readonly secret: string) {}

  bearer(userId: string, roles: readonly string[] = []): string {
    const key = `${userId}|${roles.join(',')}`;
    let token = this.cache.get(key);
    if (!token) {
      token = `Bearer ${jwt.sign({ sub: userId, roles }, Buffer.from(this.secret, 'utf8'), { algorithm: 'HS256', expiresIn: '12h' })}`;
      this.cache.set(key, token);
    }
    return token;
  }
}
