import { loadConfig } from '@parley/config';
import { uniqueName } from '@parley/testing';
import type { Client } from 'cassandra-driver';
import { createCassandraClient, dropKeyspace, ensureKeyspace } from '../cassandra-client';
import { CassandraConfig } from '../cassandra.config';

/**
 * A keyspace of a spec file's own on the configured Cassandra: created (with a connected
 * client) before its tests, dropped after them. Call it in a `describe` body.
 */
export function scratchKeyspace(prefix: string): { readonly config: CassandraConfig; readonly keyspace: string; client(): Client } {
  const config = loadConfig(CassandraConfig);
  const keyspace = uniqueName(prefix);
  let client: Client | undefined;

  beforeAll(async () => {
    client = createCassandraClient(config);
    await client.connect();
    await ensureKeyspace(client, keyspace, config.replicationFactor);
  });

  afterAll(async () => {
    if (!client) return;
    await dropKeyspace(client, keyspace);
    await client.shutdown();
  });

  return {
    config,
    keyspace,
    client: () => {
      if (!client) throw new Error('the scratch keyspace is ready only once its beforeAll has run');
      return client;
    },
  };
}

/** Drops a keyspace the apps under test created (left behind, a test file's tables stay a load on Cassandra). */
export async function dropAppKeyspace(keyspace: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const client = createCassandraClient(loadConfig(CassandraConfig, env));
  try {
    await client.connect();
    await dropKeyspace(client, keyspace);
  } finally {
    await client.shutdown();
  }
}
