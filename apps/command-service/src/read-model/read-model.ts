import { CassandraConfig, createCassandraClient, ProjectionCatalog, ServingVersions, type CassandraClient } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';

/**
 * The read side this service reads (older messages) and writes ahead of the projector (the live
 * lane). The driver connects on first use: a command service whose Cassandra is down still
 * decides and appends.
 */
@Injectable()
export class ReadModel implements OnApplicationShutdown {
  readonly config = loadConfig(CassandraConfig);
  readonly client: CassandraClient = createCassandraClient(this.config);
  /** Which timeline version serves reads, re-read at most once a second. */
  readonly versions = new ServingVersions(new ProjectionCatalog(this.client, this.config.keyspace), 1_000);

  async onApplicationShutdown(): Promise<void> {
    await this.client.shutdown();
  }
}
