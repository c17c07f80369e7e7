#!/usr/bin/env node
// Prints a development token: npm run token -- --user alice [--roles admin,analyst] [--expires 12h]
// Signed HS256 with JWT_SECRET (the same default as the API's).
import jwt from 'jsonwebtoken';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const user = option('user');
if (!user || !/^[A-Za-z0-9_.@-]{1,64}$/.test(user)) {
  console.error('usage: npm run token -- --user <id> [--roles admin,analyst] [--expires 12h]\n  <id>: 1-64 chars of [A-Za-z0-9_.@-]');
  process.exit(2);
}
const roles = (option('roles') ?? '').split(',').map((r) => r.trim()).filter(Boolean);
const secret = process.env.JWT_SECRET ?? 'parley-dev-secret-change-me';
process.stdout.write(`${jwt.sign({ sub: user, roles }, Buffer.from(secret, 'utf8'), { algorithm: 'HS256', expiresIn: option('expires') ?? '12h' })}\n`);
