import { CassandraConfig, CassandraReadModelStore, createCassandraClient, dropKeyspace, ensureKeyspace, plainRow, type CassandraClient } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { messageIdFor, type ConversationEvent } from '@parley/domain';
import { createKafka, KafkaEventLog, readToEnd, type NewEvent } from '@parley/event-log';
import { INBOX_TABLES, InboxProjection, InMemoryReadModelStore, TIMELINE_TABLES, TimelineProjection, type Projection, type Row, type TableDefinition } from '@parley/projections';
import { RedisConfig } from '@parley/redis';
import { freePort, uniqueName, waitFor } from '@parley/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ProjectorConfig, type ProjectorSettings } from '../src/projector.config';

export const PARTITIONS = 3;
const ROOT = join(__dirname, '../../..');

export { buildApps } from '@parley/testing';

/** The real projector (built) as a separate process, so that it can really be killed. */
export function startProjectorProcess(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/projector/src/main.js')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', () => undefined);
  return child;
}
export const TABLES: readonly TableDefinition[] = [...Object.values(TIMELINE_TABLES), ...Object.values(INBOX_TABLES)];

/** A private topic and keyspace per test file, and the settings a projector needs for them. */
export async function projectorEnvironment(chunkSize = 50) {
  const topic = uniqueName('proj');
  const keyspace = uniqueName('proj');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EVENTS_TOPIC: topic,
    EVENTS_TOPIC_PARTITIONS: String(PARTITIONS),
    CASSANDRA_KEYSPACE: keyspace,
    PROJECTOR_CHUNK_SIZE: String(chunkSize),
    PROJECTOR_HTTP_PORT: String(await freePort()),
  };
  const settings: ProjectorSettings = {
    projector: loadConfig(ProjectorConfig, env),
    cassandra: loadConfig(CassandraConfig, env),
    redis: loadConfig(RedisConfig, env),
  };
  const log = new KafkaEventLog(createKafka(settings.projector, 'projector-test'), topic, PARTITIONS);
  await log.connect();
  const cassandra = createCassandraClient(settings.cassandra);
  await cassandra.connect();
  await ensureKeyspace(cassandra, keyspace, 1);
  /** Drops the keyspace (left behind, a test file's tables stay a load on Cassandra) and closes the connections. */
  const release = async () => {
    await dropKeyspace(cassandra, keyspace).catch(() => undefined);
    await Promise.all([log.disconnect(), cassandra.shutdown()]);
  };
  return { env, settings, log, cassandra, keyspace, topic, release };
}

const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
let clock = 0;

function meta(actorId: string, eventId: string = randomUUID()) {
  return { eventId, actorId, occurredAt: at(clock++), causationId: randomUUID(), correlationId: 'test' };
}

/** Builders of valid events, as the command service would append them. */
export const events = {
  group(conversationId: string, creator: string, members: string[]): NewEvent[] {
    const created: ConversationEvent = {
      type: 'ConversationCreated',
      data: { conversationId, kind: 'GROUP', title: 'test', createdBy: creator, memberIds: members, createdAt: at(clock) },
    };
    return [{ event: created, metadata: meta(creator) }, ...[creator, ...members].map((u) => events.joined(conversationId, u))];
  },
  joined(conversationId: string, userId: string): NewEvent {
    return { event: { type: 'UserJoined', data: { conversationId, userId, joinedAt: at(clock) } }, metadata: meta(userId) };
  },
  left(conversationId: string, userId: string): NewEvent {
    return { event: { type: 'UserLeft', data: { conversationId, userId, leftAt: at(clock) } }, metadata: meta(userId) };
  },
  message(conversationId: string, senderId: string, clientMessageId: string, body = `body ${clientMessageId}`): NewEvent {
    const messageId = messageIdFor(conversationId, senderId, clientMessageId);
    return {
      event: { type: 'MessageSent', data: { conversationId, messageId, clientMessageId, senderId, body, sentAt: at(clock) } },
      metadata: meta(senderId, messageId),
    };
  },
};

export const groupId = (n: number | string) => `g_${String(n).padStart(26, '0')}`.slice(0, 28);

/** Every row of the timeline and inbox tables, normalised (nulls dropped, bigints as strings), sorted. */
export async function snapshot(cassandra: CassandraClient, keyspace: string, version = 1): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const result = await cassandra.execute(`SELECT * FROM ${keyspace}.${table.name}_v${version}`, [], { fetchSize: 100_000 });
    out[table.name] = result.rows.map((r) => canonical(plainRow(r))).sort();
  }
  return out;
}

export function canonical(row: Row): string {
  const entries = Object.entries(row)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

/** The rows the projections must produce: the same events applied in memory in one go. */
export async function expectedRows(log: KafkaEventLog): Promise<Record<string, string[]>> {
  // One store per projection, as in Cassandra, where each has its own checkpoints.
  const timeline = new InMemoryReadModelStore();
  const inbox = new InMemoryReadModelStore();
  const projections = [new TimelineProjection(timeline), new InboxProjection(inbox)];
  await applyEverything(projections, log);
  const storeOf = (table: string) => (table.startsWith('timeline') ? timeline : inbox);
  return Object.fromEntries(TABLES.map((t) => [t.name, storeOf(t.name).rows(t.name).map(canonical).sort()]));
}

/** Applies every event in the log again to fresh timeline and inbox instances on the Cassandra storage. */
export async function replayEverything(cassandra: CassandraClient, keyspace: string, log: KafkaEventLog): Promise<void> {
  const projections = [
    new TimelineProjection(new CassandraReadModelStore(cassandra, keyspace, 'timeline', 1)),
    new InboxProjection(new CassandraReadModelStore(cassandra, keyspace, 'inbox', 1)),
  ];
  await applyEverything(projections, log);
}

/** Every event in the log, applied to each projection one partition at a time, in one chunk. */
async function applyEverything(projections: readonly Projection[], log: KafkaEventLog): Promise<void> {
  const all = await readToEnd(log);
  for (const p of projections) {
    await p.createStorage();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const mine = all.filter((e) => e.position.partition === partition && p.handles.has(e.event.type as never));
      await p.apply(partition, mine, String(BigInt(mine.at(-1)?.position.offset ?? '-1') + 1n));
    }
  }
}

/** Waits until every projection's checkpoint reached the log's end offsets. */
export async function waitUntilCaughtUp(cassandra: CassandraClient, keyspace: string, log: KafkaEventLog, timeoutMs = 60_000, version = 1): Promise<void> {
  const ends = await log.endOffsets();
  await waitFor(
    'the projections to reach the end of the log',
    async () => {
      const result = await cassandra.execute(`SELECT projection, version, partition, next_offset FROM ${keyspace}.projection_checkpoints`);
      for (const projection of ['timeline', 'inbox']) {
        for (const [partition, end] of ends) {
          if (end === '0') continue;
          const row = result.rows.find((r) => r.get('projection') === projection && r.get('version') === version && r.get('partition') === partition);
          if (!row || BigInt(row.get('next_offset')) < BigInt(end)) {
            throw new Error(`${projection} partition ${partition}: checkpoint ${row?.get('next_offset')} < end ${end}`);
          }
        }
      }
      return true;
    },
    { timeoutMs, intervalMs: 100 },
  );
}
