// Raw part: bare cassandra-driver write throughput into a table shaped like timeline_messages
// (((conversation_id, bucket), offset) with the message columns, USING TIMESTAMP), concurrent
// prepared inserts, as many in flight as the projector's store allows.
import { randomUUID } from 'node:crypto';
import { Client, concurrent, types } from 'cassandra-driver';
import { now } from '../lib/clock';
import { progress, runScenario } from '../lib/scenario';
import { perSecond } from '../lib/stats';

export interface RawCassandraInput {
  readonly writes: number;
  readonly concurrency: number;
}

export interface RawCassandraOutput {
  readonly writes: number;
  readonly concurrency: number;
  readonly elapsedMs: number;
  readonly rate: number;
}

const keyspace = `bench_raw_${randomUUID().slice(0, 8)}`;
const client = new Client({
  contactPoints: (process.env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(','),
  localDataCenter: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
  queryOptions: { prepare: true, consistency: types.consistencies.localQuorum },
  encoding: { useBigIntAsLong: true },
  pooling: { coreConnectionsPerHost: { [types.distance.local]: 2 } },
});

runScenario<RawCassandraInput, RawCassandraOutput>(
  async ({ writes, concurrency }) => {
    await client.connect();
    await client.execute(`CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
    await client.execute(
      `CREATE TABLE ${keyspace}.timeline_messages (conversation_id text, bucket bigint, offset bigint, message_id text, client_message_id text, ` +
        'sender_id text, body text, sent_at text, seq bigint, PRIMARY KEY ((conversation_id, bucket), offset))',
    );
    const insert =
      `INSERT INTO ${keyspace}.timeline_messages (conversation_id, bucket, offset, message_id, client_message_id, sender_id, body, sent_at, seq) ` +
      'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?';
    const body = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor';
    const rows = Array.from({ length: writes }, (_, i) => {
      const offset = BigInt(i);
      return [`g_${i % 1000}`, offset / 1000n, offset, `m${i}`, `c${i}`, `user${i % 5000}`, body, new Date().toISOString(), offset, offset + 1n];
    });
    await client.execute(insert, rows[0], { prepare: true }); // prepared before the clock starts
    const started = now();
    await concurrent.executeConcurrent(client, insert, rows, { concurrencyLevel: concurrency, raiseOnFirstError: true });
    const elapsedMs = Math.round(now() - started);
    progress(`cassandra: ${writes} inserts in ${elapsedMs} ms`);
    return { writes, concurrency, elapsedMs, rate: perSecond(writes, elapsedMs) };
  },
  async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  },
);
