import { ConversationReader, ProjectionCatalog, TimelineReader, type CassandraClient } from '@parley/cassandra';
import { createKafka, type KafkaEventLog } from '@parley/event-log';
import { appendRawRecord } from '@parley/event-log/testing';
import { changesChannel, createRedis, presenceKeys, type ChangeNotification, type RedisClient } from '@parley/redis';
import { waitFor } from '@parley/testing';
import type { INestApplication } from '@nestjs/common';
import { createProjector } from '../src/app';
import type { ProjectorSettings } from '../src/projector.config';
import { events, expectedRows, groupId, projectorEnvironment, replayEverything, snapshot, waitUntilCaughtUp } from './projector-fixtures';

describe('projector (real Kafka, Cassandra and Redis)', () => {
  let env: Awaited<ReturnType<typeof projectorEnvironment>>;
  let log: KafkaEventLog;
  let cassandra: CassandraClient;
  let redis: RedisClient;
  let subscriber: RedisClient;
  let app: INestApplication | undefined;
  const notifications: ChangeNotification[] = [];

  const start = async (settings: ProjectorSettings = env.settings) => {
    app = await createProjector(settings, ['error', 'warn']);
  };
  const stop = async () => {
    await app?.close();
    app = undefined;
  };

  beforeAll(async () => {
    env = await projectorEnvironment();
    ({ log, cassandra } = env);
    redis = createRedis(env.settings.redis, 'projector-test');
    subscriber = createRedis(env.settings.redis, 'projector-test-sub');
    subscriber.on('message', (_channel, message) => notifications.push(JSON.parse(message)));
    await subscriber.subscribe(changesChannel(env.topic));
    await start();
  });

  afterAll(async () => {
    await stop();
    await Promise.all([env.release(), redis.quit(), subscriber.quit()]);
  });

  it('builds the timeline, members, inbox and presence views, and announces inbox changes (messages are announced by their writer)', async () => {
    const id = groupId('basics');
    await log.append(id, [...events.group(id, 'alice', ['bob', 'carol']), events.message(id, 'alice', 'a1'), events.message(id, 'bob', 'b1')]);
    await log.append(id, [events.left(id, 'carol'), events.joined(id, 'dave'), events.message(id, 'dave', 'd1')]);

    const page = await waitFor('the last message in the timeline', async () => {
      const read = await new TimelineReader(cassandra, env.keyspace, 1).page(id, { direction: 'backward', limit: 50 });
      return read.messages.length === 3 ? read : undefined;
    });
    expect(page.messages.map((m) => [m.senderId, m.body, m.seq])).toEqual([
      ['alice', 'body a1', 1n],
      ['bob', 'body b1', 2n],
      ['dave', 'body d1', 3n],
    ]);
    await waitFor("dave's inbox change", () => notifications.find((n) => n.projection === 'inbox' && n.changes.some((c) => c.kind === 'inbox' && c.userId === 'dave')));
    expect(notifications.filter((n) => n.projection !== 'inbox')).toEqual([]);

    const members = await cassandra.execute(`SELECT user_id FROM ${env.keyspace}.timeline_members_v1 WHERE conversation_id = ?`, [id]);
    expect(members.rows.map((r) => r.get('user_id'))).toEqual(['alice', 'bob', 'dave']);

    await waitUntilCaughtUp(cassandra, env.keyspace, log);
    const reader = new ConversationReader(cassandra, env.keyspace);
    const unread = Object.fromEntries(
      await Promise.all(['alice', 'bob', 'carol', 'dave'].map(async (u) => [u, (await reader.inboxEntries(u, [id]))[0]?.unreadCount ?? null] as const)),
    );
    expect(unread).toEqual({ alice: 2, bob: 1, carol: null, dave: 0 });

    await waitFor('presence members', async () => {
      const set = await redis.smembers(presenceKeys(env.topic, 1).members(id));
      return set.sort().join() === 'alice,bob,dave';
    });
  });

  it('shows a message appended twice (a retry under the same id) once', async () => {
    const id = groupId('duplicates');
    const original = events.message(id, 'alice', 'dup-1');
    await log.append(id, [...events.group(id, 'alice', ['bob']), original, events.message(id, 'bob', 'b-1')]);
    await log.append(id, [original, events.message(id, 'alice', 'after-dup')]);
    await waitUntilCaughtUp(cassandra, env.keyspace, log);

    const page = await new TimelineReader(cassandra, env.keyspace, 1).page(id, { direction: 'forward', limit: 50 });
    expect(page.messages.map((m) => [m.clientMessageId, m.seq])).toEqual([
      ['dup-1', 1n],
      ['b-1', 2n],
      ['after-dup', 3n],
    ]);
    const [bob] = await new ConversationReader(cassandra, env.keyspace).inboxEntries('bob', [id]);
    expect(bob?.unreadCount).toBe(1);
  });

  it('ends with exactly the rows of a clean in-memory run, and applying every event again changes nothing', async () => {
    for (let c = 0; c < 6; c++) {
      const id = groupId(`replay${c}`);
      await log.append(id, events.group(id, 'alice', ['bob', 'carol']));
      await log.append(id, Array.from({ length: 30 }, (_, i) => events.message(id, ['alice', 'bob', 'carol'][i % 3], `r${c}-${i}`)));
      await log.append(id, [events.left(id, 'carol'), events.message(id, 'bob', `r${c}-last`)]);
    }
    await waitUntilCaughtUp(cassandra, env.keyspace, log);
    const first = await snapshot(cassandra, env.keyspace);
    expect(first).toEqual(await expectedRows(log));

    // Every event delivered a second time, to fresh projection instances on the same storage.
    await stop();
    await replayEverything(cassandra, env.keyspace, log);
    expect(await snapshot(cassandra, env.keyspace)).toEqual(first);
    await start();
  });

  it('pages a 10,000-message conversation both ways, each message once, in log order', async () => {
    const id = groupId('tenthousand');
    await log.append(id, events.group(id, 'alice', ['bob']));
    const total = 10_000;
    for (let i = 0; i < total; i += 500) {
      await log.append(id, Array.from({ length: 500 }, (_, j) => events.message(id, (i + j) % 2 ? 'bob' : 'alice', `t${i + j}`, `#${i + j}`)));
    }
    await waitUntilCaughtUp(cassandra, env.keyspace, log, 240_000);
    const reader = new TimelineReader(cassandra, env.keyspace, 1);
    const expected = Array.from({ length: total }, (_, i) => `#${i}`);

    const forward: string[] = [];
    let after: bigint | undefined;
    for (;;) {
      const page = await reader.page(id, { direction: 'forward', limit: 200, after });
      forward.push(...page.messages.map((m) => m.body));
      if (!page.hasNextPage) break;
      after = page.messages.at(-1)!.offset;
    }
    expect(forward).toEqual(expected);

    const backward: string[] = [];
    let before: bigint | undefined;
    for (;;) {
      const page = await reader.page(id, { direction: 'backward', limit: 200, before });
      backward.unshift(...page.messages.map((m) => m.body));
      if (!page.hasPreviousPage) break;
      before = page.messages[0].offset;
    }
    expect(backward).toEqual(expected);
  }, 300_000);

  it('stops a projection as FAILED naming an event it cannot read, instead of skipping it', async () => {
    const id = groupId('poison');
    const partition = log.partitionFor(id);
    await log.append(id, events.group(id, 'alice', []));
    await appendRawRecord(createKafka(env.settings.projector, 'poison'), env.topic, partition, 'poison', Buffer.from('not an event'));
    const [poisonEnd] = [(await log.endOffsets()).get(partition)!];
    const failed = await waitFor('the timeline projection to fail', async () => {
      const status = await new ProjectionCatalog(cassandra, env.keyspace).status('timeline');
      return status?.state === 'FAILED' ? String(status.error) : undefined;
    });
    expect(failed).toContain(`partition ${partition} offset ${BigInt(poisonEnd) - 1n}`);
  });
});
