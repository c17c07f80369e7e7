import { Client, policies, types, type ExecutionOptions, type Host, type HostMap } from 'cassandra-driver';

export type CassandraClient = Client;
import type { CassandraConfig } from './cassandra.config';

const IDENTIFIER = /^[a-z][a-z0-9_]{0,47}$/;

function assertIdentifier(name: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`Not a safe Cassandra identifier: ${JSON.stringify(name)}`);
}

/**
 * The driver's default policy (token-aware, local data center first), except that with a
 * single node there are no replicas to choose from: the driver still hashed every statement's
 * routing key (Murmur3 on 16-bit limbs in JavaScript, about a sixth of the command service's
 * time at 500 messages/s), so a plan is then the local hosts without it.
 */
class DefaultPolicyWithoutSingleNodeHashing extends policies.loadBalancing.DefaultLoadBalancingPolicy {
  private hosts?: HostMap;

  override init(client: Client, hosts: HostMap, callback: (error: Error) => void): void {
    this.hosts = hosts;
    super.init(client, hosts, callback);
  }

  override newQueryPlan(keyspace: string, options: ExecutionOptions, callback: (error: Error, iterator: Iterator<Host>) => void): void {
    // Without execution options the policy plans over the local hosts, hashing nothing.
    if (this.hosts?.length === 1) return super.newQueryPlan(keyspace, undefined as unknown as ExecutionOptions, callback);
    super.newQueryPlan(keyspace, options, callback);
  }
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
    policies: { loadBalancing: new DefaultPolicyWithoutSingleNodeHashing({ localDc: config.localDataCenter }) },
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
