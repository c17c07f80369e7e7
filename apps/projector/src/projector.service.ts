import {
  CassandraReadModelStore,
  createCassandraClient,
  ensureKeyspace,
  isTransientCassandraError,
  ProjectionCatalog,
  type ProjectionRun,
} from '@parley/cassandra';
import type { CassandraClient as Client } from '@parley/cassandra';
import { createKafka, KafkaEventLog } from '@parley/event-log';
import { InboxProjection, PresenceProjection, TimelineProjection, type Projection } from '@parley/projections';
import { createRedis, isTransientRedisError, RedisChangePublisher, RedisPresenceMembersStore, type RedisClient } from '@parley/redis';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ProjectionRunner, type RunnerRole } from './projection-runner';
import { PROJECTOR_SETTINGS } from './projector.tokens';
import type { ProjectorSettings } from './projector.config';
import { RebuildSwitch } from './rebuild-switch';

/** One projection: how to build any version of it, the runner of the serving version, and of a rebuild. */
interface Slot {
  readonly name: string;
  readonly create: (version: number) => Projection;
  serving?: ProjectionRunner;
  rebuild?: ProjectionRunner;
  switchOver?: RebuildSwitch;
  /** The version just replaced, and when: its storage is dropped once readers have moved on. */
  retired?: { readonly version: number; readonly at: number };
}

const RECONCILE_EVERY_MS = 250;
/** API instances re-read the serving versions every 250 ms; in-flight queries finish well within this. */
const DROP_AFTER_MS = 5_000;

/**
 * Runs every projection's serving version, and builds a requested version beside it (a
 * rebuild). What serves and what is being built is read from the durable catalog, so a
 * rebuild requested by the CLI or the API is picked up here, and a rebuild whose projector
 * died resumes from its own checkpoint when the projector starts again.
 */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProjectorService.name);
  private log!: KafkaEventLog;
  private cassandra!: Client;
  private redis!: RedisClient;
  private publisher!: RedisChangePublisher;
  catalog!: ProjectionCatalog;
  private readonly slots = new Map<string, Slot>();
  private timer?: NodeJS.Timeout;
  private reconciling?: Promise<void>;
  private stopped = false;
  ready = false;

  constructor(@Inject(PROJECTOR_SETTINGS) private readonly settings: ProjectorSettings) {}

  async onApplicationBootstrap(): Promise<void> {
    const { projector, cassandra, redis } = this.settings;
    this.log = new KafkaEventLog(createKafka(projector, 'projector'), projector.eventsTopic, projector.eventsTopicPartitions);
    this.cassandra = createCassandraClient(cassandra);
    this.redis = createRedis(redis, 'projector');
    await Promise.all([this.log.connect(), this.cassandra.connect()]);
    await ensureKeyspace(this.cassandra, cassandra.keyspace, cassandra.replicationFactor);
    this.catalog = new ProjectionCatalog(this.cassandra, cassandra.keyspace);
    await this.catalog.createTables();
    this.publisher = new RedisChangePublisher(this.redis, projector.eventsTopic);

    const store = (name: string, version: number) => new CassandraReadModelStore(this.cassandra, cassandra.keyspace, name, version);
    const presence = new RedisPresenceMembersStore(this.redis, projector.eventsTopic);
    for (const [name, create] of Object.entries({
      timeline: (v: number) => new TimelineProjection(store('timeline', v), v),
      inbox: (v: number) => new InboxProjection(store('inbox', v), v),
      presence: (v: number) => new PresenceProjection(presence, v),
    })) {
      this.slots.set(name, { name, create });
      await this.catalog.register(name);
    }
    await this.reconcile();
    this.ready = true;
    this.logger.log(`Projections running: ${this.runners().map((r) => `${r.projection.name} v${r.projection.version}`).join(', ')}`);
    this.timer = setInterval(() => void this.reconcileOnce(), RECONCILE_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reconciling;
    await Promise.all(this.runners().map((r) => r.stop()));
    await this.log?.disconnect();
    await this.cassandra?.shutdown();
    await this.redis?.quit().catch(() => undefined);
  }

  private runners(): ProjectionRunner[] {
    return [...this.slots.values()].flatMap((s) => [s.serving, s.rebuild].filter((r): r is ProjectionRunner => r !== undefined));
  }

  private reconcileOnce(): void {
    if (this.reconciling || this.stopped) return;
    this.reconciling = this.reconcile()
      .catch((err: unknown) => this.logger.warn(`Reconciling projections failed (retrying): ${(err as Error).message}`))
      .finally(() => (this.reconciling = undefined));
  }

  /** Brings the runners in line with the catalog: start what should run, switch a caught-up rebuild, drop what no one serves. */
  private async reconcile(): Promise<void> {
    const [versions, runs] = await Promise.all([this.catalog.versions(), this.catalog.runs()]);
    for (const v of versions) {
      const slot = this.slots.get(v.name);
      if (!slot || this.stopped) continue;
      if (!slot.serving || slot.serving.projection.version !== v.serving) {
        slot.serving = await this.startRunner(slot, v.serving, 'serving');
      }
      if (v.rebuilding !== null && !slot.rebuild) {
        this.logger.log(`Building ${v.name} v${v.rebuilding} beside v${v.serving}`);
        slot.rebuild = await this.startRunner(slot, v.rebuilding, 'rebuilding');
      }
      if (slot.rebuild) await this.advanceRebuild(slot);
      // Versions neither served nor being built (left behind by a switch whose projector died before dropping them).
      for (const run of runs.filter((r) => r.name === v.name && r.version !== v.serving && r.version !== v.rebuilding)) {
        if (slot.retired?.version === run.version && Date.now() - slot.retired.at < DROP_AFTER_MS) continue;
        await this.drop(slot, run.version);
      }
    }
  }

  private async startRunner(slot: Slot, version: number, role: RunnerRole): Promise<ProjectionRunner> {
    const { projector } = this.settings;
    const runner = new ProjectionRunner(
      slot.create(version),
      {
        log: this.log,
        chunkSize: role === 'serving' ? projector.chunkSize : projector.rebuildChunkSize,
        isTransient: (err) => isTransientCassandraError(err) || isTransientRedisError(err),
        publish: (p: Projection, partition, nextOffset, changes) =>
          this.publisher.publish({ projection: p.name, version: p.version, partition, nextOffset, changes }),
        onStatus: (status: ProjectionRun) => this.catalog.saveRun(status),
      },
      role,
    );
    await runner.start();
    return runner;
  }

  /** Drives a rebuild through its switch-over once it has caught up with the serving version. */
  private async advanceRebuild(slot: Slot): Promise<void> {
    const rebuild = slot.rebuild!;
    const serving = slot.serving!;
    if (rebuild.failed) return; // stays FAILED (and visible) until the projector is restarted, which resumes it
    slot.switchOver ??= new RebuildSwitch(serving, rebuild);
    const step = await slot.switchOver.advance();
    if (step === 'switch') {
      if (!(await this.catalog.switchTo(slot.name, rebuild.projection.version))) {
        throw new Error(`${slot.name} v${rebuild.projection.version} is no longer the requested rebuild`);
      }
      this.logger.log(`${slot.name} v${rebuild.projection.version} now serves reads (v${serving.projection.version} retires)`);
      await serving.stop();
      rebuild.promote();
      slot.serving = rebuild;
      slot.rebuild = undefined;
      slot.switchOver = undefined;
      slot.retired = { version: serving.projection.version, at: Date.now() };
    }
  }

  /** Drops a version's storage once readers have had time to see the switch. */
  private async drop(slot: Slot, version: number): Promise<void> {
    const projection = slot.create(version);
    await projection.dropStorage();
    await this.catalog.deleteRun(slot.name, version);
    if (slot.retired?.version === version) slot.retired = undefined;
    this.logger.log(`Dropped ${slot.name} v${version}`);
  }

  async statuses(): Promise<ProjectionRun[]> {
    const runners = this.runners();
    await Promise.all(runners.map((r) => r.refreshEnds().catch(() => undefined)));
    return runners.map((r) => r.status());
  }
}
