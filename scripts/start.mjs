#!/usr/bin/env node
// `npm start`: the infrastructure, then every app on loopback, each waited for until ready.
// Ctrl-C stops the apps; the infrastructure keeps running (`npm run infra:down` stops it).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectionEnv, up } from './infra.mjs';
import { ensureDependencies } from './dependencies.mjs';

ensureDependencies();

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** In start order. `ready` is polled until it answers 200. */
export const APPS = [
  { name: 'command-service', ready: 'http://127.0.0.1:4101/health/ready' },
  { name: 'projector', ready: 'http://127.0.0.1:4102/health/ready' },
  { name: 'graphql-api', ready: 'http://127.0.0.1:4000/health/ready' },
];

async function waitReady(app, child, deadlineMs = 90_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${app.name} exited with code ${child.exitCode}`);
    try {
      if ((await fetch(app.ready)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${app.name} was not ready within ${deadlineMs / 1000} s (${app.ready})`);
}

await up();
// Production mode (as the Dockerfile): graphql-js skips its development checks, graphql-ws hides internal error details.
// PARLEY_MODE=development: a machine of your own, so the API accepts the public default JWT_SECRET (scripts/token.mjs signs with it).
const env = { NODE_ENV: 'production', PARLEY_MODE: 'development', ...process.env, ...(await connectionEnv()) };
const present = APPS.filter((app) => fs.existsSync(path.join(ROOT, 'apps', app.name, 'src', 'main.ts')));
for (const app of APPS) if (!present.includes(app)) console.log(`[start] ${app.name}: not yet`);

if (present.length > 0) {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const children = [];
const stopAll = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

try {
  for (const app of present) {
    const child = spawn(process.execPath, ['--enable-source-maps', path.join(ROOT, 'dist', 'apps', app.name, 'src', 'main.js')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    await waitReady(app, child);
    console.log(`[start] ${app.name}: ready`);
  }
} catch (err) {
  console.error(`[start] ${err.message}`);
  stopAll();
  process.exit(1);
}

console.log('[start] infrastructure ready:', Object.entries(env).filter(([k]) => /KAFKA_BROKERS|CASSANDRA_CONTACT|REDIS_URL/.test(k)).map(([k, v]) => `${k}=${v}`).join(' '));
if (present.some((a) => a.name === 'graphql-api')) {
  console.log('[start] GraphQL: http://127.0.0.1:4000/graphql  (token: npm run token -- --user alice)');
}
if (children.length === 0) console.log('[start] no apps yet; the infrastructure keeps running (npm run infra:down to stop it).');
