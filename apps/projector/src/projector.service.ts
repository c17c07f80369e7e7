import {
  CassandraReadModelStore,
  createCassandraClient,
  ensureKeyspace,
  isTransientCassandraError,
  ProjectionStatusStore,
} from '@parley/cassandra';
import { createKafka, KafkaEventLog } from '@parley/event-log';
import { InboxProjection, PresenceProjection, ProjectionRegistry, TimelineProjection, type Projection } from '@parley/projections';
import { createRedis, isTransientRedisError, RedisChangePublisher, RedisPresenceMembersStore, type RedisClient } from '@parley/redis';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CassandraClient as Client } from '@parley/cassandra';
import { ProjectionRunner, type RunnerStatus } from './projection-runner';
import { PROJECTOR_SETTINGS } from './projector.tokens';
import type { ProjectorSettings } from './projector.config';

/** Wires the projections to the log and the stores, and runs one ProjectionRunner each. */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProjectorService.name);
  private log!: KafkaEventLog;
  private cassandra!: Client;
  private redis!: RedisClient;
  private statusStore!: ProjectionStatusStore;
  readonly registry = new ProjectionRegistry();
  private runners: ProjectionRunner[] = [];
  ready = false;

  constructor(@Inject(PROJECTOR_SETTINGS) private readonly settings: ProjectorSettings) {}

  async onApplicationBootstrap(): Promise<void> {
    const { projector, cassandra, redis } = this.settings;
    this.log = new KafkaEventLog(createKafka(projector, 'projector'), projector.eventsTopic, projector.eventsTopicPartitions);
    this.cassandra = createCassandraClient(cassandra);
    this.redis = createRedis(redis, 'projector');
    await Promise.all([this.log.connect(), this.cassandra.connect()]);
    await ensureKeyspace(this.cassandra, cassandra.keyspace, cassandra.replicationFactor);
    this.statusStore = new ProjectionStatusStore(this.cassandra, cassandra.keyspace);
    await this.statusStore.createTable();

    const store = (name: string, version: number) => new CassandraReadModelStore(this.cassandra, cassandra.keyspace, name, version);
    this.registry
      .register(new TimelineProjection(store('timeline', 1)))
      .register(new InboxProjection(store('inbox', 1)))
      .register(new PresenceProjection(new RedisPresenceMembersStore(this.redis, projector.eventsTopic)));

    const publisher = new RedisChangePublisher(this.redis, projector.eventsTopic);
    this.runners = this.registry.all().map(
      (projection) =>
        new ProjectionRunner(projection, {
          log: this.log,
          chunkSize: projector.chunkSize,
          isTransient: (err) => isTransientCassandraError(err) || isTransientRedisError(err),
          publish: (p: Projection, partition, nextOffset, changes) =>
            publisher.publish({ projection: p.name, version: p.version, partition, nextOffset, changes }),
          onStatus: (status) => this.statusStore.save(status),
        }),
    );
    await Promise.all(this.runners.map((r) => r.start()));
    this.ready = true;
    this.logger.log(`Projections running: ${this.runners.map((r) => `${r.projection.name} v${r.projection.version}`).join(', ')}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
    await this.log?.disconnect();
    await this.cassandra?.shutdown();
    await this.redis?.quit().catch(() => undefined);
  }

  async statuses(): Promise<RunnerStatus[]> {
    await Promise.all(this.runners.map((r) => r.refreshEnds().catch(() => undefined)));
    return this.runners.map((r) => r.status());
  }
}
