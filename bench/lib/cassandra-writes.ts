import { CassandraConfig, createCassandraClient, type CassandraClient } from '@parley/cassandra';
import { loadConfig } from '@parley/config';

/** Writes (mutations) Cassandra applied per table of a keyspace so far: its `system_views.local_write_latency` counts. */
export class CassandraWriteCounter {
  private readonly client: CassandraClient;

  constructor(
    env: Record<string, string>,
    private readonly keyspace: string,
  ) {
    this.client = createCassandraClient(loadConfig(CassandraConfig, env));
  }

  async counts(): Promise<Map<string, number>> {
    const result = await this.client.execute('SELECT table_name, count FROM system_views.local_write_latency WHERE keyspace_name = ?', [this.keyspace]);
    return new Map(result.rows.map((r) => [String(r.get('table_name')), Number(r.get('count'))]));
  }

  /** The writes since `before`, per table that had any. */
  async since(before: ReadonlyMap<string, number>): Promise<Record<string, number>> {
    const after = await this.counts();
    return Object.fromEntries([...after].map(([table, n]) => [table, n - (before.get(table) ?? 0)]).filter(([, n]) => (n as number) > 0));
  }

  close(): Promise<void> {
    return this.client.shutdown();
  }
}
