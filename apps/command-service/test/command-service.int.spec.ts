import { loadConfig } from '@parley/config';
import type { ConversationEvent } from '@parley/domain';
import { createKafka, KafkaEventLog, readToEnd } from '@parley/event-log';
import { createCommandServiceClient, createStreamedCommandServiceClient, type CommandServiceClient, type CommandServiceError } from '@parley/proto';
import { freePort, uniqueName, waitFor } from '@parley/testing';
import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CassandraConfig, CassandraConversationSnapshots, createCassandraClient } from '@parley/cassandra';
import { createCommandService } from '../src/app';
import { CommandServiceConfig } from '../src/command-service.config';

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;

/** An in-process command service on `topic` (resolves once it is ready) and a client of it (unary calls), with its URL. */
async function startInstance(topic: string, partitions: number, apps: INestApplication[], env: Record<string, string> = {}): Promise<CommandServiceClient & { url: string }> {
  const port = await freePort();
  const config = loadConfig(CommandServiceConfig, {
    ...process.env,
    ...env,
    EVENTS_TOPIC: topic,
    EVENTS_TOPIC_PARTITIONS: String(partitions),
    COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${port}`,
    COMMAND_SERVICE_HTTP_PORT: '0',
  });
  apps.push(await createCommandService(config, ['error']));
  return Object.assign(createCommandServiceClient(config.grpcUrl), { url: config.grpcUrl });
}

describe('command service (two instances, real Kafka)', () => {
  const topic = uniqueName('cmd');
  const apps: INestApplication[] = [];
  let a: CommandServiceClient & { url: string };
  let b: CommandServiceClient & { url: string };
  let log: KafkaEventLog;

  const context = (actorId: string) => ({ actorId, commandId: randomUUID(), correlationId: '' });

  const instance = () => startInstance(topic, 3, apps);

  async function eventsOf(conversationId: string): Promise<ConversationEvent[]> {
    return (await readToEnd(log)).filter((e) => e.conversationId === conversationId).map((e) => e.event);
  }

  async function rejection(call: Promise<unknown>): Promise<CommandServiceError> {
    const err = await call.then(
      () => undefined,
      (e: CommandServiceError) => e,
    );
    if (!err) throw new Error('the command was expected to be rejected');
    return err;
  }

  beforeAll(async () => {
    a = await instance();
    b = await instance();
    log = new KafkaEventLog(createKafka(loadConfig(CommandServiceConfig), 'cmd-test-reader'), topic, 3);
    await log.connect();
  });

  afterAll(async () => {
    a?.close();
    b?.close();
    await log?.disconnect();
    await Promise.all(apps.map((app) => app.close()));
  });

  async function group(creator: string, memberIds: string[] = []) {
    const { conversation } = await a.createConversation({ context: context(creator), kind: 'GROUP', memberIds });
    return conversation!;
  }

  it('creates a group with its members in order and appends ConversationCreated plus a UserJoined each', async () => {
    const conversation = await group('alice', ['bob', 'carol', 'bob', 'alice']);
    expect(conversation.id).toMatch(/^g_[0-9a-z]{26}$/);
    expect(conversation.members.map((m) => m.userId)).toEqual(['alice', 'bob', 'carol']);
    expect((await eventsOf(conversation.id)).map((e) => e.type)).toEqual(['ConversationCreated', 'UserJoined', 'UserJoined', 'UserJoined']);
  });

  it('lets a user join on one instance and send on the other immediately after', async () => {
    const conversation = await group('alice');
    await a.joinConversation({ context: context('dave'), conversationId: conversation.id });
    const { message } = await b.sendMessage({ context: context('dave'), conversationId: conversation.id, body: 'hi from B', clientMessageId: 'd-1' });
    expect(message).toMatchObject({ senderId: 'dave', body: 'hi from B', conversationId: conversation.id });
    expect(message!.position).toEqual({ partition: log.partitionFor(conversation.id), offset: expect.stringMatching(/^\d+$/) });
  });

  it('answers Membership from the writer: a join or leave acknowledged on one instance shows at once on the other', async () => {
    const conversation = await group('alice');
    const membership = (client: CommandServiceClient, userId: string) => client.membership({ context: context(userId), conversationId: conversation.id });
    expect(await membership(b, 'erin')).toEqual({ member: false, joinedAt: '' });
    const { member } = await a.joinConversation({ context: context('erin'), conversationId: conversation.id });
    expect(await membership(b, 'erin')).toEqual({ member: true, joinedAt: member!.joinedAt });
    expect(await membership(a, 'erin')).toEqual({ member: true, joinedAt: member!.joinedAt });
    await b.leaveConversation({ context: context('erin'), conversationId: conversation.id });
    expect(await membership(a, 'erin')).toEqual({ member: false, joinedAt: '' });
    expect(await membership(a, 'alice')).toMatchObject({ member: true });
    expect(await b.membership({ context: context('alice'), conversationId: 'g_00000000000000000000000000' })).toEqual({ member: false, joinedAt: '' });
  });

  it('appends a retried send once and answers the retry with the original message, on either instance', async () => {
    const conversation = await group('alice', ['bob']);
    const send = (client: CommandServiceClient) =>
      client.sendMessage({ context: context('bob'), conversationId: conversation.id, body: 'only once', clientMessageId: 'retry-1' });
    const first = await send(a);
    const again = await send(b);
    const third = await send(a);
    expect(first.appended).toBe(true);
    expect([again.appended, third.appended]).toEqual([false, false]);
    expect(again.message).toEqual(first.message);
    expect(third.message).toEqual(first.message);
    const sent = (await eventsOf(conversation.id)).filter((e) => e.type === 'MessageSent');
    expect(sent).toHaveLength(1);
  });

  it('keeps the order of sends in the log, per conversation', async () => {
    const conversation = await group('alice', ['bob']);
    for (let i = 0; i < 10; i++) {
      const client = i % 2 === 0 ? a : b;
      await client.sendMessage({ context: context(i % 2 ? 'bob' : 'alice'), conversationId: conversation.id, body: `m${i}`, clientMessageId: `o-${i}` });
    }
    const bodies = (await eventsOf(conversation.id)).flatMap((e) => (e.type === 'MessageSent' ? [e.data.body] : []));
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it('gives both users of a pair the same DIRECT conversation, created once', async () => {
    const first = await a.createConversation({ context: context('erin'), kind: 'DIRECT', memberIds: ['frank'] });
    const second = await b.createConversation({ context: context('frank'), kind: 'DIRECT', memberIds: ['erin'] });
    expect(second.conversation!.id).toBe(first.conversation!.id);
    expect(second.position).toBeUndefined();
    expect((await eventsOf(first.conversation!.id)).map((e) => e.type)).toEqual(['ConversationCreated', 'UserJoined', 'UserJoined']);
  });

  it('creates a GROUP once per clientConversationId: created again, on either instance, the first one is returned', async () => {
    const key = `launch-${randomUUID()}`;
    const first = await a.createConversation({ context: context('alice'), kind: 'GROUP', title: 'Launch', memberIds: ['bob'], clientConversationId: key });
    const again = await b.createConversation({ context: context('alice'), kind: 'GROUP', title: 'Other', memberIds: ['carol'], clientConversationId: key });
    expect(again.conversation).toEqual(first.conversation);
    expect(again.position).toBeUndefined();
    const byOther = await a.createConversation({ context: context('bob'), kind: 'GROUP', memberIds: [], clientConversationId: key });
    expect(byOther.conversation!.id).not.toBe(first.conversation!.id); // keys are per creator
    expect((await eventsOf(first.conversation!.id)).map((e) => e.type)).toEqual(['ConversationCreated', 'UserJoined', 'UserJoined']);
  });

  it('moves read markers forward only', async () => {
    const conversation = await group('alice', ['bob']);
    const m1 = (await a.sendMessage({ context: context('alice'), conversationId: conversation.id, body: 'one', clientMessageId: 'r-1' })).message!;
    const m2 = (await a.sendMessage({ context: context('alice'), conversationId: conversation.id, body: 'two', clientMessageId: 'r-2' })).message!;
    expect((await b.markRead({ context: context('bob'), conversationId: conversation.id, upTo: m2.position })).readMarker).toEqual(m2.position);
    const back = await a.markRead({ context: context('bob'), conversationId: conversation.id, upTo: m1.position });
    expect(back.readMarker).toEqual(m2.position);
    expect(back.position).toBeUndefined();
  });

  it('answers the commands of one Commands-stream frame each by id, in the log in the order sent, rejections included', async () => {
    const conversation = await group('alice', ['bob']);
    const streamed = createStreamedCommandServiceClient(b.url);
    try {
      const sends = Array.from({ length: 20 }, (_, i) =>
        streamed.sendMessage({ context: context(i % 2 ? 'bob' : 'alice'), conversationId: conversation.id, body: `s${i}`, clientMessageId: `s-${i}` }),
      );
      const empty = rejection(streamed.sendMessage({ context: context('bob'), conversationId: conversation.id, body: '', clientMessageId: 's-x' }));
      const stranger = rejection(streamed.sendMessage({ context: context('mallory'), conversationId: conversation.id, body: 'hi', clientMessageId: 's-y' }));
      const answers = await Promise.all(sends);
      expect(answers.map((r) => [r.appended, r.message!.body])).toEqual(Array.from({ length: 20 }, (_, i) => [true, `s${i}`]));
      const [badInput, notFound] = await Promise.all([empty, stranger]);
      expect([badInput.code, badInput.metadata.get('parley-field')]).toEqual([INVALID_ARGUMENT, ['body']]);
      expect([notFound.code, notFound.metadata.get('parley-code')]).toEqual([NOT_FOUND, ['CONVERSATION.NOT_FOUND']]);
      // A retry over the stream answers with the original message.
      const retry = await streamed.sendMessage({ context: context('alice'), conversationId: conversation.id, body: 's0', clientMessageId: 's-0' });
      expect([retry.appended, retry.message]).toEqual([false, answers[0].message]);
      const bodies = (await eventsOf(conversation.id)).flatMap((e) => (e.type === 'MessageSent' ? [e.data.body] : []));
      expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`));
    } finally {
      streamed.close();
    }
  });

  describe('rejects bad input with a clear error and appends nothing', () => {
    let conversationId: string;
    beforeAll(async () => {
      conversationId = (await group('alice', ['bob'])).id;
    });

    it.each([
      ['an empty body', { body: '', clientMessageId: 'x-1' }, 'body', INVALID_ARGUMENT],
      ['a body of white space only', { body: ' \u3000\n', clientMessageId: 'x-2' }, 'body', INVALID_ARGUMENT],
      ['a body over 4000 code points', { body: '😀'.repeat(4001), clientMessageId: 'x-3' }, 'body', INVALID_ARGUMENT],
      ['a malformed clientMessageId', { body: 'ok', clientMessageId: 'has space' }, 'clientMessageId', INVALID_ARGUMENT],
    ])('%s', async (_what, input, field, code) => {
      const before = await log.endOffsets();
      const err = await rejection(b.sendMessage({ context: context('bob'), conversationId, ...input }));
      expect(err.code).toBe(code);
      expect(err.details).toContain(field);
      expect(err.metadata.get('parley-field')).toEqual([field]);
      expect(await log.endOffsets()).toEqual(before);
    });

    it('a send by a non-member, as NOT_FOUND (membership is not revealed)', async () => {
      const before = await log.endOffsets();
      const err = await rejection(a.sendMessage({ context: context('mallory'), conversationId, body: 'let me in', clientMessageId: 'x-4' }));
      expect(err.code).toBe(NOT_FOUND);
      expect(err.metadata.get('parley-code')).toEqual(['CONVERSATION.NOT_FOUND']);
      expect(await log.endOffsets()).toEqual(before);
    });

    it('a request without context', async () => {
      const before = await log.endOffsets();
      const err = await rejection(a.sendMessage({ conversationId, body: 'who am I', clientMessageId: 'x-5' } as never));
      expect(err.code).toBe(INVALID_ARGUMENT);
      expect(err.details).toMatch(/context/);
      expect(await log.endOffsets()).toEqual(before);
    });

    it('a DIRECT conversation with two other members', async () => {
      const before = await log.endOffsets();
      const err = await rejection(a.createConversation({ context: context('alice'), kind: 'DIRECT', memberIds: ['bob', 'carol'] }));
      expect(err.code).toBe(INVALID_ARGUMENT);
      expect(err.details).toMatch(/memberIds/);
      expect(await log.endOffsets()).toEqual(before);
    });
  });
});

describe('command service with more instances than partitions (real Kafka)', () => {
  const topic = uniqueName('cmd-one');
  const apps: INestApplication[] = [];
  const clients: CommandServiceClient[] = [];

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(apps.map((app) => app.close()));
  });

  it('starts an instance that owns nothing, and it forwards every command to the owner', async () => {
    for (let i = 0; i < 2; i++) clients.push(await startInstance(topic, 1, apps));
    const context = { actorId: 'alice', commandId: randomUUID(), correlationId: '' };
    // Whichever instance owns the only partition, both accept commands.
    for (const client of clients) {
      const { conversation } = await client.createConversation({ context: { ...context, commandId: randomUUID() }, kind: 'GROUP', memberIds: ['bob'] });
      const { message } = await client.sendMessage({ context: { ...context, commandId: randomUUID() }, conversationId: conversation!.id, body: 'hi', clientMessageId: 'c1' });
      expect(message!.position!.partition).toBe(0);
    }
  });
});

describe('command service holding few conversations in memory (real Kafka and Cassandra, docs/adr/0016)', () => {
  const topic = uniqueName('cmd-few');
  const apps: INestApplication[] = [];
  const clients: CommandServiceClient[] = [];
  const context = (actorId: string) => ({ actorId, commandId: randomUUID(), correlationId: '' });
  const instance = async () => {
    const client = await startInstance(topic, 1, apps, { COMMAND_STATE_MAX_CONVERSATIONS: '3', COMMAND_CHECKPOINT_INTERVAL_MS: '100' });
    clients.push(client);
    return client;
  };

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(apps.map((app) => app.close()));
  });

  it('decides on conversations that left memory as on the others, before and after a restart from its checkpoint', async () => {
    const client = await instance();
    const reader = new KafkaEventLog(createKafka(loadConfig(CommandServiceConfig), 'cmd-few-reader'), topic, 1);
    await reader.connect();
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) {
      const { conversation } = await client.createConversation({ context: context('alice'), kind: 'GROUP', memberIds: ['bob'] });
      ids.push(conversation!.id);
      await client.sendMessage({ context: context('bob'), conversationId: conversation!.id, body: `first in ${n}`, clientMessageId: 'b-1' });
    }
    const cassandra = createCassandraClient(loadConfig(CassandraConfig));
    const snapshots = new CassandraConversationSnapshots(cassandra, loadConfig(CassandraConfig).keyspace, topic, 1);
    await waitFor('the first conversation saved as a snapshot', async () => (await snapshots.load(ids[0]))?.snapshot.messageCount === 1);

    await client.joinConversation({ context: context('carol'), conversationId: ids[0] });
    expect(await client.membership({ context: context('carol'), conversationId: ids[0] })).toMatchObject({ member: true });
    const { message } = await client.sendMessage({ context: context('carol'), conversationId: ids[0], body: 'back', clientMessageId: 'c-1' });
    expect(message!.body).toBe('back');
    await expect(client.sendMessage({ context: context('dave'), conversationId: ids[1], body: 'not a member', clientMessageId: 'd-1' })).rejects.toMatchObject({ code: NOT_FOUND });

    const end = BigInt((await reader.endOffsets()).get(0)!);
    await waitFor('a checkpoint through the end of the log', async () => ((await snapshots.loadCheckpoint(0))?.through ?? -1n) >= end).finally(() => cassandra.shutdown());
    await apps.pop()!.close();
    const restarted = await instance();
    expect(await restarted.membership({ context: context('carol'), conversationId: ids[0] })).toMatchObject({ member: true });
    await restarted.leaveConversation({ context: context('bob'), conversationId: ids[2] });
    expect(await restarted.membership({ context: context('bob'), conversationId: ids[2] })).toEqual({ member: false, joinedAt: '' });
    await restarted.sendMessage({ context: context('alice'), conversationId: ids[3], body: 'second', clientMessageId: 'a-1' });
    try {
      const sent = (await readToEnd(reader)).map((e) => e.event).filter((e) => e.type === 'MessageSent' && e.data.conversationId === ids[3]);
      expect(sent.map((e) => e.type === 'MessageSent' && e.data.seq)).toEqual([1, 2]);
    } finally {
      await reader.disconnect();
    }
  });
});

