import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { PushIterator } from '../live/live-updates';
import { MAX_DEPTH } from './complexity';
import { Operations } from './operations';

/** A tiny schema with one shared-payload subscription (messageSent) and one per-subscriber one. */
function fixture() {
  const calls = { body: 0, mine: 0 };
  const feeds: Array<PushIterator<object>> = [];
  const schema = makeExecutableSchema({
    typeDefs: `
      type Query { ok: Boolean }
      type Message { id: ID!, body: String! }
      type Subscription { messageSent(conversationId: ID!): Message!, mine: Message! }`,
    resolvers: {
      Message: { body: (m: { body: string }) => (calls.body++, m.body) },
      Subscription: {
        messageSent: { subscribe: () => feeds[feeds.push(new PushIterator(() => undefined)) - 1] },
        mine: { subscribe: () => feeds[feeds.push(new PushIterator(() => undefined)) - 1], resolve: (p: { messageSent: unknown }) => (calls.mine++, p.messageSent) },
      },
    },
  });
  return { schema, calls, feeds, operations: new Operations(schema) };
}

const args = (ops: Operations, query: string, variables: Record<string, unknown> = {}): ExecutionArgs => ({
  schema: (ops as unknown as { schema: ExecutionArgs['schema'] }).schema,
  document: ops.prepare(query).document!,
  variableValues: variables,
  contextValue: {},
});

describe('Operations (the graphql-ws edge)', () => {
  it('parses and validates a query text once, however many subscribe with it', () => {
    const { operations } = fixture();
    const query = 'subscription { messageSent(conversationId: "c") { id body } }';
    expect(operations.prepare(query)).toBe(operations.prepare(query));
    expect(operations.check(query, {}, undefined)).toEqual([]);
  });

  it('reports syntax and validation errors without executing', () => {
    const { operations } = fixture();
    expect(operations.check('subscription {', {}, undefined)[0].message).toMatch(/Syntax Error/);
    expect(operations.check('subscription { nope }', {}, undefined)[0].message).toMatch(/Cannot query field "nope"/);
  });

  it('answers every such error with BAD_USER_INPUT, as HTTP does', () => {
    const { operations } = fixture();
    for (const query of ['subscription {', 'subscription { nope }']) {
      expect(operations.check(query, {}, undefined).map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('refuses a query nested deeper than MAX_DEPTH (fragments followed), as HTTP does', () => {
    const operations = new Operations(makeExecutableSchema({ typeDefs: 'type Query { node: Node } type Node { id: ID, child: Node }' }));
    const nest = (levels: number) => `${'{ node '.repeat(1)}${'{ child '.repeat(levels - 2)}{ id }${' }'.repeat(levels - 2)} }`;
    expect(operations.check(nest(MAX_DEPTH), {}, undefined)).toEqual([]);
    const [tooDeep] = operations.check(nest(MAX_DEPTH + 1), {}, undefined);
    expect(tooDeep.message).toBe(`The query nests ${MAX_DEPTH + 1} levels deep; at most ${MAX_DEPTH} are allowed`);
    expect(tooDeep.extensions.code).toBe('BAD_USER_INPUT');
    const viaFragments = `{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { ${'child { '.repeat(MAX_DEPTH)}id${' }'.repeat(MAX_DEPTH)} }`;
    expect(operations.check(viaFragments, {}, undefined)[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('executes a shared-payload selection once per event for every subscriber with that selection', async () => {
    const { operations, feeds, calls } = fixture();
    const query = 'subscription($c: ID!) { messageSent(conversationId: $c) { id body } }';
    const streams = (await Promise.all([1, 2, 3].map(() => operations.subscribe(args(operations, query, { c: 'x' }))))) as Array<AsyncIterableIterator<ExecutionResult>>;
    const payload = { messageSent: { id: 'm1', body: 'hello' } };
    for (const feed of feeds) feed.push(payload); // the same object reaches every subscriber, as LiveUpdates does
    const results = await Promise.all(streams.map((s) => s.next()));
    expect(results.map((r) => r.value)).toEqual(Array(3).fill({ data: { messageSent: { id: 'm1', body: 'hello' } } }));
    expect(calls.body).toBe(1);
    // A different selection is a different execution.
    const other = (await operations.subscribe(args(operations, 'subscription { messageSent(conversationId: "x") { body } }'))) as AsyncIterableIterator<ExecutionResult>;
    feeds.at(-1)!.push(payload);
    expect((await other.next()).value).toEqual({ data: { messageSent: { body: 'hello' } } });
    expect(calls.body).toBe(2);
  });

  it('executes other subscriptions once per subscriber (their results may depend on who asks)', async () => {
    const { operations, feeds, calls } = fixture();
    const query = 'subscription { mine { id } }';
    const streams = (await Promise.all([1, 2].map(() => operations.subscribe(args(operations, query))))) as Array<AsyncIterableIterator<ExecutionResult>>;
    const payload = { messageSent: { id: 'm1', body: 'b' } };
    for (const feed of feeds) feed.push(payload);
    await Promise.all(streams.map((s) => s.next()));
    expect(calls.mine).toBe(2);
  });

  it('runs queries through the compiled (jit) executor', async () => {
    const { operations } = fixture();
    expect(await operations.execute(args(operations, '{ ok }'))).toEqual({ data: { ok: null } });
    expect(parse('{ ok }')).toBeDefined();
  });
});
