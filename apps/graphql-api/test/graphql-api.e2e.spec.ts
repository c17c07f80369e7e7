import { loadConfig } from '@parley/config';
import { createKafka, KafkaConfig, KafkaEventLog } from '@parley/event-log';
import { buildApps, freePort, startBuiltApp as startApp, uniqueName, waitFor } from '@parley/testing';
import type { ChildProcess } from 'node:child_process';
import { buildClientSchema, buildSchema, findBreakingChanges, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { dropAppKeyspace } from '../../../libs/cassandra/src/testing/scratch-keyspace';
import { signToken } from '../src/auth/jwt';

const SECRET = 'e2e-secret-0123456789abcdef';
const token = (user: string, roles: string[] = []) => signToken(user, SECRET, roles);

describe('GraphQL API end to end (two API instances, real Kafka, Cassandra, Redis)', () => {
  const apps: ChildProcess[] = [];
  const sockets: Client[] = [];
  let urls: [string, string];
  let log: KafkaEventLog;
  let env: NodeJS.ProcessEnv;

  /** A query as `user` (a name, or a name with roles). */
  async function gql<T = Record<string, unknown>>(
    instance: 0 | 1,
    user: string | { name: string; roles: string[] } | null,
    query: string,
    variables: Record<string, unknown> = {},
  ) {
    const bearer = user === null ? undefined : typeof user === 'string' ? token(user) : token(user.name, user.roles);
    const response = await fetch(`http://${urls[instance]}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data: T; errors?: Array<{ message: string; extensions: { code: string; field?: string } }> };
  }

  function socket(instance: 0 | 1, authorization: string | undefined, onClose?: (code: number) => void): Client {
    const client = createClient({
      url: `ws://${urls[instance]}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 0,
      lazy: false,
      on: { closed: (event) => onClose?.((event as { code: number }).code) },
      onNonLazyError: () => undefined,
    });
    sockets.push(client);
    return client;
  }

  function collect<T>(client: Client, query: string, variables: Record<string, unknown>) {
    const received: T[] = [];
    const errors: unknown[] = [];
    const state = { received, errors, completed: false, dispose: () => undefined as void };
    state.dispose = client.subscribe<T>({ query, variables }, {
      next: (value) => (value.errors ? errors.push(...value.errors) : received.push(value.data as T)),
      error: (err) => errors.push(err),
      complete: () => (state.completed = true),
    });
    return state;
  }

  beforeAll(async () => {
    buildApps();
    const [grpcPort, commandHttp, projectorHttp, api1, api2] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    env = {
      ...process.env,
      EVENTS_TOPIC: uniqueName('e2e'),
      EVENTS_TOPIC_PARTITIONS: '3',
      CASSANDRA_KEYSPACE: uniqueName('e2e'),
      COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${grpcPort}`,
      COMMAND_SERVICE_HTTP_PORT: String(commandHttp),
      PROJECTOR_HTTP_PORT: String(projectorHttp),
      JWT_SECRET: SECRET,
      // No clock tolerance here, so that an expiring token closes its socket within the test.
      JWT_LEEWAY_SECONDS: '0',
      RATE_LIMIT_PER_SECOND: '5',
      RATE_LIMIT_BURST: '40',
    };
    apps.push(await startApp('command-service', env, `http://127.0.0.1:${commandHttp}/health/ready`));
    apps.push(await startApp('projector', env, `http://127.0.0.1:${projectorHttp}/health/ready`));
    for (const port of [api1, api2]) apps.push(await startApp('graphql-api', { ...env, API_PORT: String(port) }, `http://127.0.0.1:${port}/health/ready`));
    urls = [`127.0.0.1:${api1}`, `127.0.0.1:${api2}`];
    log = new KafkaEventLog(createKafka(loadConfig(KafkaConfig, env), 'e2e-reader'), env.EVENTS_TOPIC!, 3);
    await log.connect();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await log?.disconnect();
    for (const app of apps.reverse()) app.kill('SIGTERM');
    if (env?.CASSANDRA_KEYSPACE) await dropAppKeyspace(env.CASSANDRA_KEYSPACE, env);
  });

  const createGroup = async (creator: string, memberIds: string[]) => {
    const res = await gql<{ createConversation: { id: string; members: Array<{ userId: string }> } }>(
      0, creator, 'mutation($input: CreateConversationInput!) { createConversation(input: $input) { id members { userId } } }', { input: { kind: 'GROUP', memberIds } },
    );
    const conversation = res.data.createConversation;
    // Queries and subscriptions read projections: wait until the new conversation is readable.
    await waitFor('the conversation to be readable', async () => {
      const read = await gql<{ conversation: { id: string } | null }>(1, creator, 'query($id: ID!) { conversation(id: $id) { id } }', { id: conversation.id });
      return read.data.conversation !== null;
    });
    return conversation;
  };
  const send = (instance: 0 | 1, user: string, conversationId: string, body: string, clientMessageId: string) =>
    gql<{ sendMessage: { id: string; cursor: string; body: string } }>(
      instance, user, 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id cursor body } }', { input: { conversationId, body, clientMessageId } },
    );

  it('serves every type, field, argument and enum value of the contract with the same types', async () => {
    const introspection = await gql<IntrospectionQuery>(0, 'alice', getIntrospectionQuery());
    expect(introspection.errors).toBeUndefined();
    const served = buildClientSchema(introspection.data);
    const contract = buildSchema(readFileSync(join(__dirname, '../../../test/contract.graphql'), 'utf8'));
    expect(findBreakingChanges(contract, served)).toEqual([]);
  });

  it('delivers a message sent through instance 1 to a subscriber on instance 2, then shows it in the timeline', async () => {
    const { id } = await createGroup('alice', ['bob']);
    const bob = socket(1, `Bearer ${token('bob')}`);
    const sub = collect<{ messageSent: { body: string; senderId: string; cursor: string } }>(bob, 'subscription($id: ID!) { messageSent(conversationId: $id) { body senderId cursor } }', { id });
    // The subscription is live once a probe message gets through.
    await waitFor('the subscription to be live', async () => {
      await send(0, 'alice', id, 'probe', `probe-${Date.now()}`);
      if (sub.errors.length) throw new Error(JSON.stringify(sub.errors));
      return sub.received.length > 0;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    const sent = await send(0, 'alice', id, 'hello bob', 'hello-1');
    const delivered = await waitFor('bob to receive it', () => sub.received.find((m) => m.messageSent.body === 'hello bob'));
    expect(delivered.messageSent).toEqual({ body: 'hello bob', senderId: 'alice', cursor: sent.data.sendMessage.cursor });

    const timeline = await gql<{ conversation: { messages: { edges: Array<{ node: { body: string } }> } } }>(
      1, 'bob', 'query($id: ID!) { conversation(id: $id) { messages(last: 10) { edges { node { body } } } } }', { id },
    );
    expect(timeline.data.conversation.messages.edges.map((e) => e.node.body).at(-1)).toBe('hello bob');
    sub.dispose();
  });

  it('gives both users of a pair the same DIRECT conversation, with its messages', async () => {
    const create = (user: string, other: string) =>
      gql<{ createConversation: { id: string; kind: string; messages: { edges: Array<{ cursor: string; node: { body: string } }> } } }>(
        0, user, 'mutation($input: CreateConversationInput!) { createConversation(input: $input) { id kind messages { edges { cursor node { body } } } } }',
        { input: { kind: 'DIRECT', memberIds: [other] } },
      );
    const first = (await create('hana', 'ivan')).data.createConversation;
    expect(first).toMatchObject({ kind: 'DIRECT', messages: { edges: [] } });
    await waitFor('the DIRECT conversation to be readable', async () => (await gql<{ conversation: unknown }>(1, 'ivan', 'query($id: ID!) { conversation(id: $id) { id } }', { id: first.id })).data.conversation);
    const sent = await send(1, 'ivan', first.id, 'hi hana', 'd-1');
    await gql(0, 'hana', 'query($c: Cursor) { inbox(consistentWith: $c) { edges { cursor } } }', { c: sent.data.sendMessage.cursor });
    const again = (await create('hana', 'ivan')).data.createConversation;
    expect(again.id).toBe(first.id);
    expect(again.messages.edges).toEqual([{ cursor: sent.data.sendMessage.cursor, node: { body: 'hi hana' } }]);
  });

  it('creates a GROUP once per clientConversationId, on either instance, and refuses a malformed key', async () => {
    const create = (instance: 0 | 1, title: string, clientConversationId: string) =>
      gql<{ createConversation: { id: string; title: string } }>(
        instance, 'kira', 'mutation($input: CreateConversationInput!) { createConversation(input: $input) { id title } }',
        { input: { kind: 'GROUP', title, memberIds: ['lev'], clientConversationId } },
      );
    const first = (await create(0, 'Trip', 'trip-2027')).data.createConversation;
    const again = (await create(1, 'Other title', 'trip-2027')).data.createConversation;
    expect(again).toEqual(first);
    const bad = await create(0, 'x', 'not a key');
    expect(bad.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'clientConversationId' } });
  });

  it('answers a retry of a message older than the command side keeps with the original, appending nothing', async () => {
    const senders = ['mona', 'nils', 'olga', 'piet']; // the rate limit is per user
    const { id } = await createGroup('mona', senders.slice(1));
    const first = (await send(0, 'mona', id, 'the first', 'old-0')).data.sendMessage;
    let last = first;
    for (let n = 1; n <= 70; n++) last = (await send(n % 2 ? 1 : 0, senders[n % 4], id, `message ${n}`, `old-${n}`)).data.sendMessage;
    const retried = await send(1, 'mona', id, 'the first (resent)', 'old-0');
    expect(retried.errors).toBeUndefined();
    expect(retried.data.sendMessage).toEqual(first);
    const page = await gql<{ conversation: { messages: { edges: unknown[] } } }>(
      0, 'mona', 'query($id: ID!, $c: Cursor) { conversation(id: $id, consistentWith: $c) { messages(last: 100) { edges { cursor } } } }', { id, c: last.cursor },
    );
    expect(page.data.conversation.messages.edges).toHaveLength(71);
  });

  it('resumes by cursor with no gap and no duplicate', async () => {
    const { id } = await createGroup('alice', ['bob']);
    const first = await send(0, 'alice', id, 'm1', 'g-1');
    await send(0, 'alice', id, 'm2', 'g-2');
    await send(1, 'bob', id, 'm3', 'g-3');
    const bob = socket(1, `Bearer ${token('bob')}`);
    const sub = collect<{ messageSent: { body: string } }>(bob, 'subscription($id: ID!, $after: Cursor) { messageSent(conversationId: $id, after: $after) { body } }', { id, after: first.data.sendMessage.cursor });
    await send(0, 'alice', id, 'm4', 'g-4');
    await waitFor('m2..m4', () => sub.received.length >= 3, { timeoutMs: 20_000 });
    await send(0, 'alice', id, 'm5', 'g-5');
    await waitFor('m5', () => sub.received.some((m) => m.messageSent.body === 'm5'), { timeoutMs: 20_000 });
    expect(sub.received.map((m) => m.messageSent.body)).toEqual(['m2', 'm3', 'm4', 'm5']);
    sub.dispose();
  });

  it('ends the subscription of a member who leaves: nothing sent afterwards reaches them', async () => {
    const { id } = await createGroup('alice', ['bob', 'carol']);
    const first = await send(0, 'alice', id, 'before', 'l-1');
    const bob = socket(1, `Bearer ${token('bob')}`);
    const sub = collect<{ messageSent: { body: string } }>(bob, 'subscription($id: ID!, $after: Cursor) { messageSent(conversationId: $id, after: $after) { body } }', { id, after: first.data.sendMessage.cursor });
    await send(0, 'alice', id, 'while a member', 'l-2');
    await waitFor('bob to receive it', () => sub.received.length > 0, { timeoutMs: 20_000 });
    const left = await gql<{ leaveConversation: boolean }>(1, 'bob', 'mutation($id: ID!) { leaveConversation(conversationId: $id) }', { id });
    expect(left.data.leaveConversation).toBe(true);
    await send(0, 'alice', id, 'after bob left', 'l-3');
    await waitFor('the subscription to end', () => sub.completed, { timeoutMs: 20_000 });
    expect(sub.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(sub.received.map((m) => m.messageSent.body)).toEqual(['while a member']);
  });

  it('ends presenceChanged for a member who leaves, with FORBIDDEN', async () => {
    const { id } = await createGroup('alice', ['hank']);
    const hank = socket(0, `Bearer ${token('hank')}`);
    const sub = collect(hank, 'subscription($id: ID!) { presenceChanged(conversationId: $id) { userId online } }', { id });
    // The subscription is live once it hears a member come online (it may not be yet for the first socket).
    await waitFor('the subscription to hear alice', async () => {
      const alice = socket(1, `Bearer ${token('alice')}`);
      const heard = await waitFor('alice online', () => sub.received.length > 0, { timeoutMs: 1_500 }).catch(() => false);
      await alice.dispose();
      return heard;
    }, { timeoutMs: 20_000, intervalMs: 50 });
    const left = await gql<{ leaveConversation: boolean }>(1, 'hank', 'mutation($id: ID!) { leaveConversation(conversationId: $id) }', { id });
    expect(left.data.leaveConversation).toBe(true);
    await waitFor('the subscription to end', () => sub.completed, { timeoutMs: 20_000 });
    expect(sub.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
  });

  it('answers a subscription to a conversation just created through the other instance: UNAVAILABLE while the read side lags, never NOT_FOUND; delivers once it caught up', async () => {
    const projector = apps[1];
    const create = () =>
      gql<{ createConversation: { id: string } }>(0, 'alice', 'mutation($input: CreateConversationInput!) { createConversation(input: $input) { id } }', { input: { kind: 'GROUP', memberIds: ['ivan'] } });
    const subscribe = (id: string) => collect<{ messageSent: { body: string } }>(socket(1, `Bearer ${token('ivan')}`), 'subscription($id: ID!) { messageSent(conversationId: $id) { body } }', { id });
    projector.kill('SIGSTOP');
    let lagging;
    try {
      const { data } = await create();
      lagging = subscribe(data.createConversation.id);
      await waitFor('an answer', () => lagging!.errors.length > 0 || lagging!.completed, { timeoutMs: 20_000 });
    } finally {
      projector.kill('SIGCONT');
    }
    expect(lagging.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAVAILABLE' }) })]);

    // The projector runs again: subscribing right after creating succeeds and delivers.
    const { data } = await create();
    const id = data.createConversation.id;
    const sub = subscribe(id);
    await waitFor('a message to arrive', async () => {
      if (sub.errors.length > 0) throw new Error(JSON.stringify(sub.errors));
      await send(0, 'alice', id, 'hello ivan', `now-${Date.now()}`);
      return sub.received.length > 0;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    expect(sub.received[0].messageSent.body).toBe('hello ivan');
    sub.dispose();
  });

  it('counts unread messages in the inbox and moves the marker with markRead', async () => {
    const { id } = await createGroup('carol', ['dave']);
    await send(0, 'carol', id, 'c1', 'u-1');
    const last = await send(0, 'carol', id, 'c2', 'u-2');
    const inbox = await gql<{ inbox: { edges: Array<{ node: { unreadCount: number; conversation: { id: string } } }> } }>(
      1, 'dave', 'query($c: Cursor) { inbox(first: 10, consistentWith: $c) { edges { node { unreadCount conversation { id } } } } }', { c: last.data.sendMessage.cursor },
    );
    expect(inbox.data.inbox.edges.find((e) => e.node.conversation.id === id)?.node.unreadCount).toBe(2);
    const marked = await gql<{ markRead: { unreadCount: number; lastReadCursor: string } }>(
      1, 'dave', 'mutation($id: ID!, $upTo: Cursor!) { markRead(conversationId: $id, upTo: $upTo) { unreadCount lastReadCursor } }', { id, upTo: last.data.sendMessage.cursor },
    );
    expect(marked.data.markRead).toEqual({ unreadCount: 0, lastReadCursor: last.data.sendMessage.cursor });
  });

  it('pushes inbox entries as they change (inboxUpdated)', async () => {
    const { id } = await createGroup('carol', ['gina']);
    const gina = socket(0, `Bearer ${token('gina')}`);
    const sub = collect<{ inboxUpdated: { unreadCount: number; conversation: { id: string }; lastMessage: { body: string } | null } }>(
      gina, 'subscription { inboxUpdated { unreadCount conversation { id } lastMessage { body } } }', {},
    );
    await waitFor('an inbox update after a message', async () => {
      await send(1, 'carol', id, `for gina ${Date.now()}`, `in-${Date.now()}`);
      return sub.received.some((u) => u.inboxUpdated.conversation.id === id && (u.inboxUpdated.lastMessage?.body ?? '').startsWith('for gina'));
    }, { timeoutMs: 20_000, intervalMs: 500 });
    expect(sub.received.at(-1)!.inboxUpdated.unreadCount).toBeGreaterThanOrEqual(1);
    sub.dispose();
  });

  it('tells members when another member comes online and goes offline (presenceChanged)', async () => {
    const { id } = await createGroup('alice', ['frank']);
    const alice = socket(1, `Bearer ${token('alice')}`);
    const sub = collect<{ presenceChanged: { userId: string; online: boolean } }>(
      alice, 'subscription($id: ID!) { presenceChanged(conversationId: $id) { userId online } }', { id },
    );
    const frankOnline = () => sub.received.some((p) => p.presenceChanged.userId === 'frank' && p.presenceChanged.online);
    let frank: Client | undefined;
    // Alice's subscription may not be live yet when frank first connects: reconnect until seen.
    await waitFor('frank online', async () => {
      const attempt = socket(0, `Bearer ${token('frank')}`);
      if (sub.errors.length) throw new Error(JSON.stringify(sub.errors));
      const seen = await waitFor('the presence event', frankOnline, { timeoutMs: 1_500 }).catch(() => false);
      if (seen) frank = attempt;
      else await attempt.dispose();
      return seen;
    }, { timeoutMs: 20_000, intervalMs: 50 });
    await frank!.dispose();
    await waitFor('frank offline', () => sub.received.some((p) => p.presenceChanged.userId === 'frank' && !p.presenceChanged.online));
    sub.dispose();
  });

  it('hides conversations from non-members: null from queries, NOT_FOUND from mutations and subscriptions', async () => {
    const { id } = await createGroup('alice', []);
    const query = await gql(0, 'mallory', 'query($id: ID!) { conversation(id: $id) { id } }', { id });
    expect(query.data).toEqual({ conversation: null });
    const mutation = await send(1, 'mallory', id, 'hi', 'x-1');
    expect(mutation.errors?.[0].extensions.code).toBe('NOT_FOUND');
    const sub = collect(socket(0, `Bearer ${token('mallory')}`), 'subscription($id: ID!) { messageSent(conversationId: $id) { body } }', { id });
    await waitFor('the subscription error', () => sub.errors.length > 0);
    expect(JSON.stringify(sub.errors)).toContain('NOT_FOUND');
  });

  it.each([
    ['an empty body', { body: '' }, 'body'],
    ['a body of white space only', { body: ' \n\u3000' }, 'body'],
    ['a body over 4,000 characters', { body: 'x'.repeat(4001) }, 'body'],
    ['a bad clientMessageId', { clientMessageId: 'no spaces allowed' }, 'clientMessageId'],
  ])('rejects %s with BAD_USER_INPUT naming the field, appending nothing', async (_what, override, field) => {
    const { id } = await createGroup('alice', []);
    const before = await log.endOffsets();
    const res = await gql(0, 'alice', 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', {
      input: { conversationId: id, body: 'ok', clientMessageId: 'b-1', ...override },
    });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.errors?.[0].message).toContain(field);
    expect(await log.endOffsets()).toEqual(before);
  });

  it.each([
    ['a title over 200 characters', 'mutation { createConversation(input: {kind: GROUP, title: "%T", memberIds: []}) { id } }', 'title'],
    ['a DIRECT conversation with two others', 'mutation { createConversation(input: {kind: DIRECT, memberIds: ["bob", "carol"]}) { id } }', 'memberIds'],
    ['a DIRECT conversation with oneself', 'mutation { createConversation(input: {kind: DIRECT, memberIds: ["alice"]}) { id } }', 'memberIds'],
    ['a DIRECT conversation with a title', 'mutation { createConversation(input: {kind: DIRECT, title: "t", memberIds: ["bob"]}) { id } }', 'title'],
    ['a malformed member id', 'mutation { createConversation(input: {kind: GROUP, memberIds: ["not valid!"]}) { id } }', 'memberIds'],
    ['an inbox page of 101', '{ inbox(first: 101) { edges { cursor } } }', 'first'],
    ['a malformed consistentWith cursor', '{ inbox(consistentWith: "nope") { edges { cursor } } }', 'consistentWith'],
    ['more than 500 presence ids', `{ presence(userIds: [${Array.from({ length: 501 }, (_, i) => `"u${i}"`).join(',')}]) { online } }`, 'userIds'],
  ])('rejects %s with BAD_USER_INPUT naming the field, appending nothing', async (_what, query, field) => {
    const before = await log.endOffsets();
    const res = await gql(0, 'alice', query.replace('%T', 'x'.repeat(201)));
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: expect.stringContaining(field) });
    expect(await log.endOffsets()).toEqual(before);
  });

  it.each([
    ['a page of 201 messages', '(first: 201)', 'first'],
    ['first and last together', '(first: 1, last: 1)', 'first'],
    ['a malformed cursor', '(after: "garbage")', 'after'],
  ])('rejects messages with %s as BAD_USER_INPUT', async (_what, args, field) => {
    const { id } = await createGroup('alice', []);
    const res = await gql(0, 'alice', `query($id: ID!) { conversation(id: $id) { messages${args} { edges { cursor } } } }`, { id });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('rejects a cursor of another conversation as BAD_USER_INPUT', async () => {
    const a = await createGroup('alice', []);
    const b = await createGroup('alice', []);
    const sent = await send(0, 'alice', a.id, 'in a', 'xa-1');
    const res = await gql(0, 'alice', 'query($id: ID!, $c: String) { conversation(id: $id) { messages(after: $c) { edges { cursor } } } }', { id: b.id, c: sent.data.sendMessage.cursor });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(res.errors?.[0].message).toMatch(/another conversation/);
  });

  it('rejects a missing token (UNAUTHENTICATED) and closes a socket with a bad token with 4401', async () => {
    const res = await gql(0, null, '{ me { online } }');
    expect(res.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    let code: number | undefined;
    socket(0, 'Bearer not-a-jwt', (c) => (code = c));
    await waitFor('the socket to be closed', () => code);
    expect(code).toBe(4401);
  });

  it('refuses an operation too complex to serve with BAD_USER_INPUT, over HTTP and over graphql-ws', async () => {
    const query = '{ inbox(first: 100) { edges { node { conversation { messages(last: 200) { edges { node { id body } } } } } } } }';
    const http = await gql(0, 'alice', query);
    expect(http.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(http.errors?.[0].message).toMatch(/too complex/);
    const ws = await new Promise<unknown>((resolve) => {
      socket(1, `Bearer ${token('alice')}`).subscribe({ query }, { next: resolve, error: resolve, complete: () => undefined });
    });
    expect(ws).toEqual([expect.objectContaining({ message: expect.stringMatching(/too complex/), extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  it('closes a socket with 4401 when its token expires', async () => {
    let closedWith: number | undefined;
    const client = socket(1, `Bearer ${signToken('frank', SECRET, [], '2s')}`, (code) => (closedWith = code));
    const me = await new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: '{ me { userId online } }' }, { next: ({ data }) => resolve(data), error: reject, complete: () => undefined });
    });
    expect(me).toEqual({ me: { userId: 'frank', online: true } });
    await waitFor('the socket to close', () => closedWith !== undefined, { timeoutMs: 10_000 });
    expect(closedWith).toBe(4401);
  });

  it('limits mutations per user across instances with RATE_LIMITED and a retry hint', async () => {
    const { id } = await createGroup('spammer', []);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => send((i % 2) as 0 | 1, 'spammer', id, `spam ${i}`, `s-${i}`)));
    const elapsedSeconds = (Date.now() - started) / 1000;
    const limited = results.filter((r) => r.errors?.[0].extensions.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    // Burst 40 (one spent on createConversation) plus 5 per second while the requests ran.
    expect(results.length - limited.length).toBeLessThanOrEqual(39 + Math.ceil(5 * elapsedSeconds) + 1);
    expect((limited[0].errors![0].extensions as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
  });

  it('exposes Prometheus metrics: requests, errors by code, open subscriptions, delivery latency', async () => {
    const text = await (await fetch(`http://${urls[0]}/metrics`)).text();
    expect(text).toMatch(/parley_graphql_requests_total\{transport="http"\} [1-9]/);
    expect(text).toMatch(/parley_graphql_errors_total\{code="BAD_USER_INPUT"\} [1-9]/);
    expect(text).toContain('parley_subscriptions_open');
    // Measured where messages arrive: the instance whose subscribers follow them (the tests' sockets are on instance 1).
    const subscribed = await (await fetch(`http://${urls[1]}/metrics`)).text();
    expect(subscribed).toMatch(/parley_delivery_latency_seconds_count [1-9]/);
  });

  it('shows a user online while they hold a socket, with lastSeenAt once it closes', async () => {
    const erin = socket(0, `Bearer ${token('erin')}`);
    const presence = () => gql<{ presence: Array<{ online: boolean; lastSeenAt: string | null }> }>(1, 'alice', '{ presence(userIds: ["erin"]) { online lastSeenAt } }');
    await waitFor('erin online', async () => (await presence()).data.presence[0].online);
    const members = await gql<{ conversation: { members: Array<{ userId: string; presence: { online: boolean } }> } }>(
      0, 'alice', 'query($id: ID!) { conversation(id: $id) { members { userId presence { online } } } }', { id: (await createGroup('alice', ['erin'])).id },
    );
    expect(members.data.conversation.members.map((m) => m.userId)).toEqual(['alice', 'erin']);
    expect(members.data.conversation.members[1].presence.online).toBe(true);
    await erin.dispose();
    const offline = await waitFor('erin offline', async () => {
      const p = (await presence()).data.presence[0];
      return p.online ? undefined : p;
    });
    expect(offline.lastSeenAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('serves analysts the log itself (events): filtered, paged, with the message cursor and the replay payload', async () => {
    const analyst = { name: 'ann', roles: ['analyst'] };
    const { id } = await createGroup('alice', ['bob']);
    const sent = [await send(0, 'alice', id, 'first', 'ev-1'), await send(1, 'bob', id, 'second', 'ev-2')];
    const query = 'query($id: ID, $after: String) { events(conversationId: $id, types: ["MessageSent"], first: 1, after: $after) { edges { cursor node { type conversationId actorId cursor payload } } pageInfo { hasNextPage endCursor } } }';
    type Page = { events: { edges: Array<{ node: { type: string; actorId: string; cursor: string; payload: { body: string; messageId: string } } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const page1 = await gql<Page>(0, analyst, query, { id });
    expect(page1.errors).toBeUndefined();
    expect(page1.data.events.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({ type: 'MessageSent', actorId: 'alice', cursor: sent[0].data.sendMessage.cursor, payload: expect.objectContaining({ body: 'first', messageId: sent[0].data.sendMessage.id }) }),
    ]);
    expect(page1.data.events.pageInfo.hasNextPage).toBe(true);
    const page2 = await gql<Page>(1, analyst, query, { id, after: page1.data.events.pageInfo.endCursor });
    expect(page2.data.events.edges.map((e) => e.node.payload.body)).toEqual(['second']);
    expect(page2.data.events.pageInfo.hasNextPage).toBe(false);

    expect((await gql(0, 'alice', '{ events { edges { cursor } } }')).errors?.[0].extensions.code).toBe('FORBIDDEN');
    const bad = await gql(0, analyst, '{ events(first: 1001) { edges { cursor } } }');
    expect(bad.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    expect((await gql(0, analyst, '{ events(after: "garbage") { edges { cursor } } }')).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('lets admins rebuild a projection while queries keep answering: CONFLICT for a second rebuild, progress until the new version serves', async () => {
    const admin = { name: 'root', roles: ['admin'] };
    const denied = await gql(0, 'alice', 'mutation { rebuildProjection(name: "timeline") { state } }');
    expect(denied.errors?.[0].extensions.code).toBe('FORBIDDEN');
    expect((await gql(0, { name: 'ann', roles: ['analyst'] }, '{ projections { name } }')).errors?.[0].extensions.code).toBe('FORBIDDEN');

    const { id } = await createGroup('alice', ['bob']);
    const before = await send(0, 'alice', id, 'before the rebuild', 'rebuild-before');
    const listed = await gql<{ projections: Array<{ name: string; version: number; state: string }> }>(1, admin, '{ projections { name version state } }');
    expect(listed.data.projections).toEqual(expect.arrayContaining([{ name: 'timeline', version: 1, state: 'LIVE' }]));

    const progress = collect<{ projectionProgress: { version: number; state: string; progress: number | null } }>(
      socket(1, `Bearer ${token(admin.name, admin.roles)}`), 'subscription { projectionProgress(name: "timeline") { version state progress } }', {},
    );
    await waitFor('the current status on subscribe', () => progress.received.length > 0 || progress.errors.length > 0);
    expect(progress.errors).toEqual([]);
    const started = await gql<{ rebuildProjection: { name: string; version: number; state: string } }>(0, admin, 'mutation { rebuildProjection(name: "timeline") { name version state } }');
    expect(started.data.rebuildProjection).toEqual({ name: 'timeline', version: 1, state: 'REBUILDING' });
    const again = await gql(1, admin, 'mutation { rebuildProjection(name: "timeline") { state } }');
    expect(again.errors?.[0].extensions.code).toBe('CONFLICT');
    expect((await gql(0, admin, 'mutation { rebuildProjection(name: "no-such") { state } }')).errors?.[0].extensions.code).toBe('NOT_FOUND');

    // Reads keep answering throughout, from whichever version serves at the moment.
    let reads = 0;
    const failedReads: string[] = [];
    await waitFor('v2 to serve the timeline', async () => {
      const read = await gql<{ conversation: { messages: { edges: Array<{ node: { body: string } }> } } | null }>(
        (reads++ % 2) as 0 | 1, 'bob', 'query($id: ID!, $c: Cursor) { conversation(id: $id, consistentWith: $c) { messages(last: 5) { edges { node { body } } } } }', { id, c: before.data.sendMessage.cursor },
      );
      const bodies = read.data?.conversation?.messages.edges.map((e) => e.node.body) ?? [];
      if (read.errors || !bodies.includes('before the rebuild')) failedReads.push(JSON.stringify(read));
      return progress.received.some((p) => p.projectionProgress.version === 2 && p.projectionProgress.state === 'LIVE');
    }, { timeoutMs: 60_000, intervalMs: 50 });
    expect(failedReads).toEqual([]);
    expect(reads).toBeGreaterThan(1);
    expect(progress.received.some((p) => p.projectionProgress.state === 'REBUILDING' && p.projectionProgress.version === 1)).toBe(true);

    const after = await send(1, 'bob', id, 'after the rebuild', 'rebuild-after');
    const read = await gql<{ conversation: { messages: { edges: Array<{ node: { body: string } }> } } }>(
      0, 'alice', 'query($id: ID!, $c: Cursor) { conversation(id: $id, consistentWith: $c) { messages(last: 5) { edges { node { body } } } } }', { id, c: after.data.sendMessage.cursor },
    );
    expect(read.data.conversation.messages.edges.map((e) => e.node.body).slice(-2)).toEqual(['before the rebuild', 'after the rebuild']);
    const status = await gql<{ projections: Array<{ name: string; version: number; state: string; progress: number | null }> }>(0, admin, '{ projections { name version state progress } }');
    expect(status.data.projections.find((p) => p.name === 'timeline')).toEqual({ name: 'timeline', version: 2, state: 'LIVE', progress: null });
  });
});
