import { loadConfig } from '@parley/config';
import type { CassandraClient } from '@parley/cassandra';
import type { KafkaEventLog } from '@parley/event-log';
import { freePort, waitFor } from '@parley/testing';
import type { INestApplication } from '@nestjs/common';
import { createProjector } from '../src/app';
import { ProjectorConfig, type ProjectorSettings } from '../src/projector.config';
import { ProjectorService } from '../src/projector.service';
import { events, expectedRows, groupId, PARTITIONS, projectorEnvironment, snapshot, waitUntilCaughtUp } from './projector-fixtures';

const USERS = ['alice', 'bob', 'carol', 'dave'];
const CONVERSATIONS = Array.from({ length: 9 }, (_, c) => groupId(`instances${c}`));

describe('two projector instances sharing the partitions (real Kafka, Cassandra and Redis)', () => {
  let env: Awaited<ReturnType<typeof projectorEnvironment>>;
  let log: KafkaEventLog;
  let cassandra: CassandraClient;
  const apps: INestApplication[] = [];

  const start = async (): Promise<INestApplication> => {
    const settings: ProjectorSettings = { ...env.settings, projector: loadConfig(ProjectorConfig, { ...env.env, PROJECTOR_HTTP_PORT: String(await freePort()) }) };
    const app = await createProjector(settings, ['error', 'warn']);
    apps.push(app);
    return app;
  };
  const partitionsOf = (app: INestApplication) => app.get(ProjectorService).partitions();
  const send = async (round: string, count: number) => {
    for (const [c, id] of CONVERSATIONS.entries()) {
      await log.append(id, Array.from({ length: count }, (_, i) => events.message(id, USERS[(i + c) % 4], `${round}-${i}`)));
    }
  };

  beforeAll(async () => {
    env = await projectorEnvironment(50);
    ({ log, cassandra } = env);
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await env.release();
  });

  it('applies each partition in one instance, builds exactly the rows of a single run, and the survivor takes over a stopped instance\'s partitions', async () => {
    for (const [c, id] of CONVERSATIONS.entries()) await log.append(id, events.group(id, USERS[c % 4], USERS.filter((u) => u !== USERS[c % 4])));
    await send('before', 40);
    const [first, second] = await Promise.all([start(), start()]);

    await waitFor('the instances to share the partitions', () => {
      const [a, b] = [partitionsOf(first), partitionsOf(second)];
      return a.length > 0 && b.length > 0 && [...a, ...b].sort().join() === Array.from({ length: PARTITIONS }, (_, p) => p).join();
    }, { timeoutMs: 60_000, intervalMs: 100 });
    await send('shared', 20);
    await waitUntilCaughtUp(cassandra, env.keyspace, log, 90_000);
    expect(await snapshot(cassandra, env.keyspace)).toEqual(await expectedRows(log));

    // One instance stops: the other holds every partition, continues from the stored checkpoints and converges.
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    await waitFor('the survivor to hold every partition', () => partitionsOf(second).length === PARTITIONS, { timeoutMs: 60_000, intervalMs: 100 });
    await send('after', 20);
    await waitUntilCaughtUp(cassandra, env.keyspace, log, 90_000);
    expect(await snapshot(cassandra, env.keyspace)).toEqual(await expectedRows(log));
  }, 240_000);
});
