import { buildApps, freePort, startBuiltApp, uniqueName, waitFor } from '@parley/testing';
import type { Client } from 'graphql-ws';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import jwt from 'jsonwebtoken';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { dropAppKeyspace } from '../../../libs/cassandra/src/testing/scratch-keyspace';
import { openSocket, postGraphql } from './graphql-clients';

const ISSUER = 'https://id.parley.test';
const AUDIENCE = 'parley-api';
const SECRET = 'identity-e2e-secret-0123456789';

describe('identity: tokens of an OIDC provider (JWKS on 127.0.0.1) and HS256, over HTTP and graphql-ws', () => {
  let jwks: Server;
  let api: ChildProcess;
  let url: string;
  let env: NodeJS.ProcessEnv;
  let rsa: { privateKey: KeyLike; publicKey: KeyLike };
  const sockets: Client[] = [];

  const rs256 = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ sub: 'oidc-user', iss: ISSUER, aud: AUDIENCE, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'key-1' }).setExpirationTime('1h').sign(rsa.privateKey);

  const me = (token: string) => postGraphql<{ me: { userId: string } } | null>(url, token, '{ me { userId } }');

  /** A socket that runs `{ me { userId } }`; records how it closed, if it did. */
  function socket(token: string) {
    const { client, state } = openSocket(url, token);
    sockets.push(client);
    const ask = () =>
      new Promise<unknown>((resolve, reject) => {
        let result: unknown;
        client.subscribe({ query: '{ me { userId } }' }, { next: (value) => (result = value), error: reject, complete: () => resolve(result) });
      });
    return { state, ask };
  }

  beforeAll(async () => {
    buildApps();
    rsa = await generateKeyPair('RS256');
    const keys = [{ ...(await exportJWK(rsa.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }];
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const port = await freePort();
    env = {
      ...process.env,
      PARLEY_MODE: 'production',
      EVENTS_TOPIC: uniqueName('identity'),
      EVENTS_TOPIC_PARTITIONS: '3',
      CASSANDRA_KEYSPACE: uniqueName('identity'),
      API_PORT: String(port),
      JWT_SECRET: SECRET,
      JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    };
    // No command service here (nothing listens on its port): live, not ready.
    api = await startBuiltApp('graphql-api', { ...env, COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${await freePort()}` }, `http://127.0.0.1:${port}/health/live`);
    url = `127.0.0.1:${port}`;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    api?.kill('SIGTERM');
    await new Promise((resolve) => jwks?.close(resolve));
    if (env?.CASSANDRA_KEYSPACE) await dropAppKeyspace(env.CASSANDRA_KEYSPACE, env);
  });

  it("accepts the provider's RS256 token for this audience over HTTP", async () => {
    expect(await me(await rs256())).toEqual({ data: { me: { userId: 'oidc-user' } } });
  });

  it.each([
    ['another audience', () => rs256({ aud: 'another-api' })],
    ['another issuer', () => rs256({ iss: 'https://evil.test' })],
    ['an HS256 token without the issuer and audience', async () => jwt.sign({ sub: 'oidc-user' }, SECRET)],
  ])('answers UNAUTHENTICATED to %s', async (_what, make) => {
    const res = await me(await make());
    expect(res.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0].message).toMatch(/^Invalid token: /);
  });

  it("accepts the provider's token on graphql-ws, and closes a socket with a bad one with 4401", async () => {
    const good = socket(await rs256());
    expect(await good.ask()).toEqual({ data: { me: { userId: 'oidc-user' } } });
    const bad = socket(await rs256({ aud: 'another-api' }));
    await expect(bad.ask()).rejects.toBeDefined();
    await waitFor('the socket with a bad token to close', () => bad.state.closedWith !== undefined);
    expect(bad.state.closedWith).toBe(4401);
  });

  it('keeps a socket whose token expires in 30 days open (a timer beyond 2^31-1 ms used to fire at once)', async () => {
    const token = jwt.sign({ sub: 'long-lived', iss: ISSUER, aud: AUDIENCE }, SECRET, { algorithm: 'HS256', expiresIn: '30d' });
    const long = socket(token);
    expect(await long.ask()).toEqual({ data: { me: { userId: 'long-lived' } } });
    expect(await long.ask()).toEqual({ data: { me: { userId: 'long-lived' } } });
    expect(long.state.closedWith).toBeUndefined();
  });

  it('is not ready while the command service does not answer, and says which dependency is down', async () => {
    const response = await fetch(`http://${url}/health/ready`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: Record<string, { status: string; message?: string }>; info: Record<string, { status: string }> };
    expect(body.error.commandService).toMatchObject({ status: 'down', message: expect.stringMatching(/^no connection to 127\.0\.0\.1:\d+$/) });
    expect(body.info).toEqual({ cassandra: { status: 'up' }, redis: { status: 'up' }, kafka: { status: 'up' } });
  });

  it('refuses to start in production with the public default JWT_SECRET, naming the way out', async () => {
    const { JWT_SECRET: _secret, ...withoutSecret } = env;
    const child = spawn(process.execPath, [join(__dirname, '../../../dist/apps/graphql-api/src/main.js')], {
      env: { ...withoutSecret, API_PORT: String(await freePort()), JWT_JWKS_URL: '', JWT_ISSUER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toContain('JWT_SECRET is the public development default');
    expect(output).toContain('PARLEY_MODE=development');
  });
});
