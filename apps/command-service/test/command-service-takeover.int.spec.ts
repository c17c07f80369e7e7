import { loadConfig } from '@parley/config';
import { createKafka, KafkaConfig, KafkaEventLog, partitionForConversation, readToEnd } from '@parley/event-log';
import { createCommandServiceClient, type CommandServiceClient, type CommandServiceError } from '@parley/proto';
import { buildApps, freePort, uniqueName, waitFor } from '@parley/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const PARTITIONS = 6;
const UNAVAILABLE = 14;

interface Instance {
  readonly process: ChildProcess;
  readonly client: CommandServiceClient;
  readonly httpPort: number;
}

/** Each instance's partitions, from its readiness report (undefined while it is not ready). */
async function partitionsOf(instance: Instance): Promise<number[] | undefined> {
  const response = await fetch(`http://127.0.0.1:${instance.httpPort}/health/ready`).catch(() => undefined);
  if (!response?.ok) return undefined;
  const body = (await response.json()) as { info?: { eventLog?: { partitions?: number[] } } };
  return body.info?.eventLog?.partitions;
}

describe('command service: one writer per partition, across instances (real processes, real Kafka)', () => {
  const topic = uniqueName('takeover');
  const env = { ...process.env, EVENTS_TOPIC: topic, EVENTS_TOPIC_PARTITIONS: String(PARTITIONS), COMMAND_TIMEOUT_MS: '15000' };
  const instances: Instance[] = [];
  let log: KafkaEventLog;

  async function start(): Promise<Instance> {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(ROOT, 'dist/apps/command-service/src/main.js')], {
      env: { ...env, COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${grpcPort}`, COMMAND_SERVICE_HTTP_PORT: String(httpPort) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', () => undefined);
    const instance = { process: child, client: createCommandServiceClient(`127.0.0.1:${grpcPort}`), httpPort };
    instances.push(instance);
    await waitFor('the instance to be ready', async () => (await partitionsOf(instance)) !== undefined, { timeoutMs: 60_000, intervalMs: 100 });
    return instance;
  }

  async function splitBetween(a: Instance, b: Instance): Promise<[number[], number[]]> {
    let split: [number[], number[]] = [[], []];
    await waitFor('the partitions to be split between both instances', async () => {
      split = [(await partitionsOf(a)) ?? [], (await partitionsOf(b)) ?? []];
      return split[0].length > 0 && split[1].length > 0 && split[0].length + split[1].length === PARTITIONS;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    return split;
  }

  const context = (actorId: string, commandId = randomUUID()) => ({ actorId, commandId, correlationId: '' });

  async function group(client: CommandServiceClient): Promise<string> {
    const { conversation } = await client.createConversation({ context: context('alice'), kind: 'GROUP', memberIds: ['bob'] });
    return conversation!.id;
  }

  beforeAll(() => buildApps());

  afterAll(async () => {
    for (const instance of instances) {
      instance.client.close();
      instance.process.kill('SIGKILL');
    }
    await log?.disconnect();
  });

  it('splits the partitions; a SIGKILLed owner\'s go to the other within 10 s, with nothing lost or doubled', async () => {
    const a = await start();
    const b = await start();
    log = new KafkaEventLog(createKafka(loadConfig(KafkaConfig, env), 'takeover-reader'), topic, PARTITIONS);
    await log.connect({ readOnly: true });
    const [, ofB] = await splitBetween(a, b);

    // Each instance creates groups in its own partitions: half of them live on b.
    const conversations = await Promise.all(Array.from({ length: 12 }, (_, i) => group((i % 2 ? a : b).client)));
    const acknowledged = new Map<string, { conversationId: string; clientMessageId: string; body: string; offset: string; partition: number }>();
    let sending = true;
    let sent = 0;
    // Senders: each conversation sends one message at a time, alternating instances; a failed
    // send is retried with the same clientMessageId (on the other instance) until acknowledged.
    const senders = conversations.map(async (conversationId, c) => {
      for (let n = 0; sending; n++) {
        const clientMessageId = `c${c}-m${n}`;
        const deadline = Date.now() + 30_000;
        for (let attempt = 0; ; attempt++) {
          const via = instances.filter((i) => i.process.exitCode === null && i.process.signalCode === null)[(n + attempt) % 2] ?? a;
          try {
            const { message } = await via.client.sendMessage({ context: context('bob'), conversationId, body: `m${n}`, clientMessageId }, { deadlineMs: 20_000 });
            const { offset, partition } = message!.position!;
            acknowledged.set(message!.id, { conversationId, clientMessageId, body: `m${n}`, offset, partition });
            sent++;
            break;
          } catch (err) {
            // UNAVAILABLE is retryable: retry once a live instance owns the conversation's partition.
            if ((err as CommandServiceError).code !== UNAVAILABLE || Date.now() > deadline) throw err;
            const partition = partitionForConversation(conversationId, PARTITIONS);
            await waitFor('a live instance to own the partition', async () => {
              const live = instances.filter((i) => i.process.exitCode === null && i.process.signalCode === null);
              return (await Promise.all(live.map(partitionsOf))).some((owned) => owned?.includes(partition));
            }, { timeoutMs: 30_000, intervalMs: 50 });
          }
        }
      }
    });

    await waitFor('some messages to be acknowledged', () => sent >= 60, { timeoutMs: 30_000 });
    const beforeKill = [...acknowledged.entries()].find(([, m]) => ofB.includes(m.partition))!;
    b.process.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the survivor to own every partition', async () => (await partitionsOf(a))?.length === PARTITIONS, { timeoutMs: 20_000, intervalMs: 50 });
    const takeoverMs = Date.now() - killedAt;
    const sentAtTakeover = sent;
    await waitFor('messages to be acknowledged after the takeover', () => sent >= sentAtTakeover + 60, { timeoutMs: 30_000 });
    sending = false;
    await Promise.all(senders);

    expect(takeoverMs).toBeLessThan(10_000);
    // A retry across the switch (acknowledged by the dead owner) returns the original, appending nothing.
    const [messageId, original] = beforeKill;
    const retried = await a.client.sendMessage({ context: context('bob'), conversationId: original.conversationId, body: original.body, clientMessageId: original.clientMessageId });
    expect(retried.appended).toBe(false);
    expect(retried.message).toMatchObject({ id: messageId, position: { partition: original.partition, offset: original.offset } });

    const messages = (await readToEnd(log)).filter((e) => e.event.type === 'MessageSent');
    const byId = new Map<string, number>();
    for (const e of messages) if (e.event.type === 'MessageSent') byId.set(e.event.data.messageId, (byId.get(e.event.data.messageId) ?? 0) + 1);
    expect([...byId.values()].filter((count) => count > 1)).toEqual([]); // nothing doubled
    for (const [id, ack] of acknowledged) {
      const logged = messages.find((e) => e.event.type === 'MessageSent' && e.event.data.messageId === id);
      expect(logged?.position).toEqual({ partition: ack.partition, offset: ack.offset }); // nothing lost, where it was acknowledged
    }
  }, 180_000);

  it('fences a paused owner: resumed after the takeover, it appends nothing decided on its stale state', async () => {
    const a = instances[0];
    const c = await start();
    await splitBetween(a, c);
    const conversationId = await group(c.client); // in one of c's partitions
    c.process.kill('SIGSTOP');
    // Bob's send reaches c while it is paused; c still holds the state in which bob is a member.
    const stale = c.client.sendMessage({ context: context('bob'), conversationId, body: 'stale', clientMessageId: 'stale' }, { deadlineMs: 60_000 });
    const outcome = stale.then(() => 'appended', (err: CommandServiceError) => err.code);
    await waitFor('the other instance to take every partition over', async () => (await partitionsOf(a))?.length === PARTITIONS, { timeoutMs: 20_000, intervalMs: 50 });
    await a.client.leaveConversation({ context: context('bob'), conversationId });
    c.process.kill('SIGCONT');

    // Fenced (UNAVAILABLE), or told by the group first and forwarded to the owner (NOT_FOUND): never appended.
    expect([UNAVAILABLE, 5 /* NOT_FOUND */]).toContain(await outcome);
    await splitBetween(a, c);
    const { message } = await c.client.sendMessage({ context: context('alice'), conversationId, body: 'after', clientMessageId: 'after' });
    const events = (await readToEnd(log)).filter((e) => e.conversationId === conversationId).map((e) => e.event);
    expect(events.map((e) => e.type)).toEqual(['ConversationCreated', 'UserJoined', 'UserJoined', 'UserLeft', 'MessageSent']);
    expect(events.at(-1)).toMatchObject({ data: { body: 'after', messageId: message!.id } });
  }, 120_000);
});
