import { buildApps, freePort, startBuiltApp, uniqueName, waitFor } from '@parley/testing';
import type { ChildProcess } from 'node:child_process';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { dropAppKeyspace } from '../../../libs/cassandra/src/testing/scratch-keyspace';
import { signToken } from '../src/auth/jwt';
import { openSocket, postGraphql, run } from './graphql-clients';

const SECRET = 'limits-e2e-secret-0123456789';
const token = (user: string) => signToken(user, SECRET);

describe('the edge under abuse: frame size, operations per socket, sockets per user, depth, bad queries, sockets closed while accepted', () => {
  const apps: ChildProcess[] = [];
  const clients: Client[] = [];
  let url: string;
  let env: NodeJS.ProcessEnv;

  const gql = <T>(user: string, query: string, variables: Record<string, unknown> = {}) => postGraphql<T>(url, token(user), query, variables);

  /** A socket kept open (not lazy) for `user`; records its close code. */
  function socket(user: string) {
    const opened = openSocket(url, token(user));
    clients.push(opened.client);
    return opened;
  }

  const socketsOpen = async () => Number(/^parley_graphql_ws_sockets_open (\d+)/m.exec(await (await fetch(`http://${url}/metrics`)).text())?.[1]);

  beforeAll(async () => {
    buildApps();
    const [grpcPort, commandHttp, projectorHttp, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    env = {
      ...process.env,
      EVENTS_TOPIC: uniqueName('limits'),
      EVENTS_TOPIC_PARTITIONS: '3',
      CASSANDRA_KEYSPACE: uniqueName('limits'),
      COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${grpcPort}`,
      COMMAND_SERVICE_HTTP_PORT: String(commandHttp),
      PROJECTOR_HTTP_PORT: String(projectorHttp),
      API_PORT: String(apiPort),
      JWT_SECRET: SECRET,
      WS_MAX_PAYLOAD_BYTES: '4096',
      WS_MAX_OPERATIONS_PER_SOCKET: '3',
      WS_MAX_SOCKETS_PER_USER: '2',
    };
    apps.push(await startBuiltApp('command-service', env, `http://127.0.0.1:${commandHttp}/health/ready`));
    apps.push(await startBuiltApp('projector', env, `http://127.0.0.1:${projectorHttp}/health/ready`));
    apps.push(await startBuiltApp('graphql-api', env, `http://127.0.0.1:${apiPort}/health/ready`));
    url = `127.0.0.1:${apiPort}`;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    for (const app of apps.reverse()) app.kill('SIGTERM');
    if (env?.CASSANDRA_KEYSPACE) await dropAppKeyspace(env.CASSANDRA_KEYSPACE, env);
  });

  it('closes a socket that sends a frame above WS_MAX_PAYLOAD_BYTES with 1009, before authentication', async () => {
    const raw = new WebSocket(`ws://${url}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => raw.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => raw.once('close', resolve));
    raw.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(8192) } }));
    expect(await closed).toBe(1009);
  });

  it('answers RATE_LIMITED to one operation more than WS_MAX_OPERATIONS_PER_SOCKET, and accepts one again after another completes', async () => {
    const created = await gql<{ createConversation: { id: string } }>('olga', 'mutation { createConversation(input: { kind: GROUP, memberIds: [] }) { id } }');
    const conversationId = created.data.createConversation.id;
    await waitFor('the conversation to be readable', async () => (await gql<{ conversation: { id: string } | null }>('olga', 'query($id: ID!) { conversation(id: $id) { id } }', { id: conversationId })).data.conversation !== null);
    const { client } = socket('olga');
    const subscription = 'subscription($id: ID!) { messageSent(conversationId: $id) { body } }';
    const open = [run(client, subscription, { id: conversationId }), run(client, subscription, { id: conversationId }), run(client, subscription, { id: conversationId })];
    let sent = 0;
    // A subscription delivers what is sent once it listens: send until all three have had one.
    await waitFor('the three subscriptions to get a message', async () => {
      await gql('olga', 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { conversationId, body: 'hello', clientMessageId: `c${sent++}` } });
      return open.every((o) => o.results.length > 0);
    });
    const fourth = run(client, subscription, { id: conversationId });
    await waitFor('the fourth to be refused', () => fourth.error !== undefined);
    expect((fourth.error as Array<{ extensions: { code: string } }>)[0].extensions.code).toBe('RATE_LIMITED');
    open[0].dispose();
    await waitFor('a new one to be accepted once one completed', async () => {
      const again = run(client, '{ me { userId } }');
      await waitFor('its answer', () => again.results.length > 0 || again.error !== undefined);
      return again.results.length === 1;
    });
  });

  it('closes the socket one more than WS_MAX_SOCKETS_PER_USER with 4430; others and the user after a close are unaffected', async () => {
    const first = socket('pete');
    const second = socket('pete');
    await waitFor('two sockets of pete to be open', () => first.state.connected && second.state.connected);
    const third = socket('pete');
    await waitFor('the third socket to close', () => third.state.closedWith !== undefined);
    expect(third.state.closedWith).toBe(4430);
    const other = socket('quinn');
    await waitFor("another user's socket to open", () => other.state.connected);
    await first.client.dispose();
    await waitFor('pete to be allowed a socket again', async () => {
      const again = socket('pete');
      await waitFor('it to open or close', () => again.state.connected || again.state.closedWith !== undefined);
      return again.state.connected; // acknowledged only once the limit was checked
    });
    expect(second.state.closedWith).toBeUndefined();
  });

  it('refuses a query nested deeper than 16 levels over graphql-ws with BAD_USER_INPUT, as over HTTP', async () => {
    const { client } = socket('rita');
    const deep = `{ __schema { types { ${'fields { type { '.repeat(8)}name${' } }'.repeat(8)} } } }`;
    const outcome = run(client, deep);
    await waitFor('the deep query to be refused', () => outcome.error !== undefined);
    const [error] = outcome.error as Array<{ message: string; extensions: { code: string } }>;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/depth/); // graphql-js's own introspection limit, or ours (16 levels)
    expect((await gql<unknown>('rita', deep)).errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it.each([
    ['a syntax error', '{', /^Syntax Error: /, 'tess'],
    ['an unknown field', '{ nope }', /^Cannot query field "nope" on type "Query"/, 'uma'],
  ])('answers %s with BAD_USER_INPUT and the parser\'s message on both transports', async (_what, query, message, user) => {
    const [http] = (await gql<unknown>(user, query)).errors!;
    expect(http.extensions.code).toBe('BAD_USER_INPUT');
    expect(http.message).toMatch(message);
    const outcome = run(socket(user).client, query); // a user of its own: WS_MAX_SOCKETS_PER_USER is 2 here
    await waitFor('the socket to refuse it', () => outcome.error !== undefined);
    const [ws] = outcome.error as Array<{ message: string; extensions: { code: string } }>;
    expect(ws.extensions.code).toBe('BAD_USER_INPUT');
    expect(ws.message).toMatch(message);
  });

  it('leaks no socket (gauge, presence) when sockets close while they are being accepted', async () => {
    const before = await socketsOpen();
    for (let i = 0; i < 20; i++) {
      const raw = new WebSocket(`ws://${url}/graphql`, 'graphql-transport-ws');
      await new Promise((resolve, reject) => raw.once('open', resolve).once('error', reject));
      raw.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token('sally')}` } }));
      raw.terminate();
    }
    await waitFor('the sockets gauge to come back', async () => (await socketsOpen()) === before);
    await waitFor('sally to be offline', async () => {
      const res = await gql<{ presence: Array<{ online: boolean }> }>('rita', '{ presence(userIds: ["sally"]) { online } }');
      return res.data.presence[0].online === false;
    });
    expect((await gql<{ me: { userId: string } }>('sally', '{ me { userId } }')).data.me.userId).toBe('sally');
  });
});
