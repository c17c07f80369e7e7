import { Client, types } from 'cassandra-driver';

export type CassandraClient = Client;
import type { CassandraConfig } from './cassandra.config';

const IDENTIFIER = /^[a-z][a-z0-9_]{0,47}$/;

function assertIdentifier(name: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`Not a safe Cassandra identifier: ${JSON.stringify(name)}`);
}

/** A client bound to no keyspace (statements name it), so one client serves every projection version. */
export function createCassandraClient(config: Pick<CassandraConfig, 'contactPoints' | 'localDataCenter'>): Client {
  return new Client({
    contactPoints: config.contactPoints,
    localDataCenter: config.localDataCenter,
    queryOptions: { prepare: true, consistency: types.consistencies.localQuorum },
    // bigint in and out for bigint columns (log offsets, sequence numbers).
    encoding: { useBigIntAsLong: true, useBigIntAsVarint: true },
    pooling: { coreConnectionsPerHost: { [types.distance.local]: 2 } },
  });
}

export async function ensureKeyspace(client: Client, keyspace: string, replicationFactor: number): Promise<void> {
  assertIdentifier(keyspace);
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} ` +
      `WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${Number(replicationFactor)}}`,
  );
}

export async function dropKeyspace(client: Client, keyspace: string): Promise<void> {
  assertIdentifier(keyspace);
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
}
