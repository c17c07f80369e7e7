import { buildApps, freePort, GiveUp, REPO_ROOT, startBuiltApp, uniqueName, waitFor } from '@parley/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signToken } from '../apps/graphql-api/src/auth/jwt';
import { dropAppKeyspace } from '../libs/cassandra/src/testing/scratch-keyspace';

/**
 * Live traffic through the whole system while, one at a time, the projector, Redis and the
 * Kafka broker are SIGKILLed and restarted: every subscriber that stays connected gets every
 * acknowledged message exactly once and in order, or is told to resume and then gets the rest
 * by cursor. Redis is a server of this test's own (it is killed); the broker is the one
 * scripts/infra.mjs runs (`npm test` starts it), restarted with `node scripts/infra.mjs up`.
 */

const SECRET = 'faults-e2e-secret-0123456789abcdef';
const token = (user: string) => signToken(user, SECRET, []);
const MEMBERS = ['alice', 'bob', 'carol'];
const CONVERSATIONS = 3;
const SEND_EVERY_MS = 25;

interface Sent {
  readonly id: string;
  readonly cursor: string;
}

/** `PING` answered with `+PONG` on 127.0.0.1:port. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1_000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor('Redis to answer', () => redisAnswers(port), { timeoutMs: 15_000, intervalMs: 100 });
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends messages one after another (so log order is acknowledgement order), each retried with its clientMessageId until acknowledged. */
class Sender {
  readonly acknowledged = new Map<string, Sent[]>();
  failures = 0;
  private count = 0;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly urls: readonly string[],
    private readonly conversations: readonly string[],
  ) {
    for (const id of conversations) this.acknowledged.set(id, []);
  }

  get total(): number {
    return this.count;
  }

  start(): void {
    this.running = (async () => {
      while (!this.stopping) {
        const n = this.count;
        const conversationId = this.conversations[n % this.conversations.length];
        const sent = await this.sendUntilAcknowledged(conversationId, MEMBERS[n % MEMBERS.length], `f-${n}`, n);
        this.acknowledged.get(conversationId)!.push(sent);
        this.count++;
        await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS)); // pacing, not a wait for correctness
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Resolves once `more` further messages are acknowledged. */
  async progressed(what: string, more: number, timeoutMs = 90_000): Promise<void> {
    const target = this.count + more;
    await waitFor(what, () => this.count >= target, { timeoutMs, intervalMs: 50 });
  }

  async send(conversationId: string, sender: string, clientMessageId: string, attempt: number): Promise<Sent> {
    const url = this.urls[attempt % this.urls.length];
    const response = await fetch(`http://${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token(sender)}` },
      body: JSON.stringify({
        query: 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { id cursor } }',
        variables: { input: { conversationId, body: `message ${clientMessageId}`, clientMessageId } },
      }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await response.json()) as { data?: { sendMessage: Sent } | null; errors?: unknown[] };
    if (!body.data?.sendMessage) throw new Error(JSON.stringify(body.errors));
    return body.data.sendMessage;
  }

  private sendUntilAcknowledged(conversationId: string, sender: string, clientMessageId: string, n: number): Promise<Sent> {
    let attempt = n;
    return waitFor(
      `${clientMessageId} to be acknowledged`,
      () =>
        this.send(conversationId, sender, clientMessageId, attempt++).catch((err: unknown) => {
          this.failures++;
          if (this.stopping) throw new GiveUp(`${clientMessageId} was never acknowledged: ${(err as Error).message}`);
          throw err;
        }),
      { timeoutMs: 180_000, intervalMs: 200 },
    );
  }
}

/** One member's messageSent subscription; told to resume (UNAVAILABLE + resumeAfter), it subscribes again from there. */
class Subscriber {
  readonly received: string[] = [];
  resumed = 0;
  readonly unexpected: unknown[] = [];
  private dispose?: () => void;
  private cursor: string;

  constructor(
    private readonly client: Client,
    readonly conversationId: string,
    readonly member: string,
    after: string,
  ) {
    this.cursor = after;
    this.subscribe();
  }

  private subscribe(): void {
    let resumeAfter: string | undefined;
    this.dispose = this.client.subscribe<{ messageSent: Sent }>(
      { query: 'subscription($id: ID!, $after: Cursor) { messageSent(conversationId: $id, after: $after) { id cursor } }', variables: { id: this.conversationId, after: this.cursor } },
      {
        next: (value) => {
          if (value.errors) {
            const extensions = (value.errors[0] as { extensions?: { code?: string; resumeAfter?: string } }).extensions;
            if (extensions?.code === 'UNAVAILABLE') resumeAfter = extensions.resumeAfter ?? this.cursor;
            else this.unexpected.push(value.errors);
            return;
          }
          this.received.push(value.data!.messageSent.id);
          this.cursor = value.data!.messageSent.cursor;
        },
        error: (err) => this.unexpected.push(err),
        complete: () => {
          if (resumeAfter === undefined) return;
          this.resumed++;
          this.cursor = resumeAfter;
          this.subscribe();
        },
      },
    );
  }

  close(): void {
    this.dispose?.();
  }
}

describe('Live delivery through faults (projector, Redis, Kafka broker SIGKILLed under traffic)', () => {
  const apps = new Map<string, ChildProcess>();
  const clients: Client[] = [];
  const subscribers: Subscriber[] = [];
  let redis: ChildProcess;
  let redisPort: number;
  let env: NodeJS.ProcessEnv;
  let urls: string[];
  let sender: Sender;
  let projectorReady: string;

  beforeAll(async () => {
    buildApps();
    const [grpcPort, commandHttp, projectorHttp, api1, api2] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    env = {
      ...process.env,
      EVENTS_TOPIC: uniqueName('faults'),
      EVENTS_TOPIC_PARTITIONS: '3',
      CASSANDRA_KEYSPACE: uniqueName('faults'),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${grpcPort}`,
      COMMAND_SERVICE_HTTP_PORT: String(commandHttp),
      PROJECTOR_HTTP_PORT: String(projectorHttp),
      JWT_SECRET: SECRET,
      RATE_LIMIT_PER_SECOND: '10000',
      RATE_LIMIT_BURST: '10000',
    };
    projectorReady = `http://127.0.0.1:${projectorHttp}/health/ready`;
    apps.set('command-service', await startBuiltApp('command-service', env, `http://127.0.0.1:${commandHttp}/health/ready`));
    apps.set('projector', await startBuiltApp('projector', env, projectorReady));
    for (const [i, port] of [api1, api2].entries()) apps.set(`api-${i + 1}`, await startBuiltApp('graphql-api', { ...env, API_PORT: String(port) }, `http://127.0.0.1:${port}/health/ready`));
    urls = [`127.0.0.1:${api1}`, `127.0.0.1:${api2}`];

    // Conversations, and a first message in each that every subscription starts after.
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const response = await fetch(`http://${urls[0]}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token('alice')}` },
        body: JSON.stringify({ query: 'mutation($input: CreateConversationInput!) { createConversation(input: $input) { id } }', variables: { input: { kind: 'GROUP', memberIds: ['bob', 'carol'] } } }),
      });
      conversations.push(((await response.json()) as { data: { createConversation: { id: string } } }).data.createConversation.id);
    }
    sender = new Sender(urls, conversations);
    for (const [c, conversationId] of conversations.entries()) {
      const first = await sender.send(conversationId, 'alice', 'f-first', 0);
      for (const [m, member] of MEMBERS.entries()) {
        const client = createClient({
          url: `ws://${urls[(c + m) % 2]}/graphql`,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${token(member)}` },
          retryAttempts: 0,
        });
        clients.push(client);
        subscribers.push(new Subscriber(client, conversationId, member, first.cursor));
      }
    }
    sender.start();
    await sender.progressed('traffic to flow', 20, 30_000);
  }, 240_000);

  afterAll(async () => {
    await sender?.stop().catch(() => undefined);
    subscribers.forEach((s) => s.close());
    await Promise.all(clients.map((c) => c.dispose()));
    for (const app of apps.values()) app.kill('SIGKILL');
    redis?.kill('SIGKILL');
    if (env?.CASSANDRA_KEYSPACE) await dropAppKeyspace(env.CASSANDRA_KEYSPACE, env);
  });

  /** Every subscriber has every message acknowledged so far, none twice, in log order. */
  async function expectEveryMessageOnceInOrder(fault: string): Promise<void> {
    const snapshot = new Map([...sender.acknowledged].map(([id, sent]) => [id, sent.map((s) => s.id)]));
    await waitFor(`every subscriber to have every message acknowledged before the end of "${fault}"`, () =>
      subscribers.every((s) => snapshot.get(s.conversationId)!.every((id) => s.received.includes(id))),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    for (const s of subscribers) {
      const expected = snapshot.get(s.conversationId)!;
      expect({ who: `${s.member} in ${s.conversationId}`, unexpected: s.unexpected }).toEqual({ who: `${s.member} in ${s.conversationId}`, unexpected: [] });
      expect(new Set(s.received).size).toBe(s.received.length); // none twice
      expect(s.received.slice(0, expected.length)).toEqual(expected); // in log order, nothing missing
    }
  }

  it('loses and doubles nothing when the projector is SIGKILLed and restarted', async () => {
    const projector = apps.get('projector')!;
    projector.kill('SIGKILL');
    await exited(projector);
    await sender.progressed('messages acknowledged while the projector is down', 20);
    apps.set('projector', await startBuiltApp('projector', env, projectorReady));
    await sender.progressed('messages acknowledged after the restart', 20);
    await expectEveryMessageOnceInOrder('projector SIGKILL');
  }, 180_000);

  it('loses and doubles nothing when Redis is SIGKILLed and restarted', async () => {
    const failuresBefore = sender.failures;
    redis.kill('SIGKILL');
    await exited(redis);
    await waitFor('sends to fail while Redis is down', () => sender.failures > failuresBefore, { timeoutMs: 30_000, intervalMs: 50 });
    redis = await startRedis(redisPort);
    await sender.progressed('messages acknowledged after the restart', 20);
    await expectEveryMessageOnceInOrder('Redis SIGKILL');
  }, 180_000);

  it('loses and doubles nothing when the Kafka broker is SIGKILLed and restarted', async () => {
    const pidFile = join(process.env.PARLEY_INFRA_DIR ?? join(REPO_ROOT, '.infra'), 'kafka.pid');
    if (!existsSync(pidFile)) throw new Error(`This test restarts the broker that scripts/infra.mjs runs (no ${pidFile}): run it through npm test`);
    const failuresBefore = sender.failures;
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    await waitFor('sends to fail while the broker is down', () => sender.failures > failuresBefore, { timeoutMs: 30_000, intervalMs: 50 });
    const restart = spawn(process.execPath, [join(REPO_ROOT, 'scripts/infra.mjs'), 'up'], { stdio: 'inherit' });
    await exited(restart);
    if (restart.exitCode !== 0) throw new Error(`restarting the broker failed (node scripts/infra.mjs up exited with ${restart.exitCode ?? restart.signalCode})`);
    await sender.progressed('messages acknowledged after the restart', 20, 120_000);
    await expectEveryMessageOnceInOrder('Kafka broker SIGKILL');
  }, 300_000);
});
