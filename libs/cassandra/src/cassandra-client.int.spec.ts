import type { Client } from 'cassandra-driver';
import { ensureKeyspace } from './cassandra-client';
import { scratchKeyspace } from './testing/scratch-keyspace';

describe('Cassandra on loopback (real node)', () => {
  const scratch = scratchKeyspace('it');
  const { config, keyspace } = scratch;
  let client: Client;

  beforeAll(() => {
    client = scratch.client();
  });

  it('creates the keyspace idempotently', async () => {
    await ensureKeyspace(client, keyspace, config.replicationFactor);
    const rows = await client.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace]);
    expect(rows.rowLength).toBe(1);
  });

  it('writes rows to a table and reads them back in clustering order', async () => {
    await client.execute(
      `CREATE TABLE IF NOT EXISTS ${keyspace}.messages (conversation_id text, seq bigint, body text, ` +
        'PRIMARY KEY (conversation_id, seq)) WITH CLUSTERING ORDER BY (seq ASC)',
    );
    const insert = `INSERT INTO ${keyspace}.messages (conversation_id, seq, body) VALUES (?, ?, ?)`;
    await Promise.all([3n, 1n, 2n].map((seq) => client.execute(insert, ['c1', seq, `body ${seq}`])));

    const result = await client.execute(`SELECT seq, body FROM ${keyspace}.messages WHERE conversation_id = ?`, ['c1']);
    expect(result.rows.map((r) => [Number(r.seq), r.body])).toEqual([
      [1, 'body 1'],
      [2, 'body 2'],
      [3, 'body 3'],
    ]);
  });

  it('on a single node, plans statements without hashing their routing keys into tokens', async () => {
    await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.routed (k text PRIMARY KEY, v text)`);
    const replicas = jest.spyOn(client, 'getReplicas');
    await Promise.all(['a', 'b', 'c'].map((k) => client.execute(`INSERT INTO ${keyspace}.routed (k, v) VALUES (?, ?)`, [k, k])));
    await client.batch([`INSERT INTO ${keyspace}.routed (k, v) VALUES ('d', 'd')`], { logged: false });

    expect(replicas).not.toHaveBeenCalled();
    expect(client.getState().getConnectedHosts()).toHaveLength(1);
    expect((await client.execute(`SELECT k FROM ${keyspace}.routed`)).rowLength).toBe(4);
  });
});
