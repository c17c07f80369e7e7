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
import { createRedis, isTransientRedisError, LiveTimelineRows, RedisChangePublisher, RedisPresenceMembersStore, type RedisClient } from '@parley/redis';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ProjectionFeed } from './projection-feed';
import { ProjectionRunner, type RunnerRole } from './projection-runner';
import { PROJECTOR_SETTINGS } from './projector.tokens';
import type { ProjectorSettings } from './projector.config';
import { mayTakeOver } from './rebuild-switch';

/** One projection: how to build any version of it, the runner of the serving version, and of a rebuild with its own feed. */
interface Slot {
  readonly name: string;
  readonly create: (version: number) => Projection;
  serving?: ProjectionRunner;
  rebuild?: { readonly runner: ProjectionRunner; readonly feed: ProjectionFeed };
  /** The version just replaced, and when: its storage is dropped once readers have moved on. */
  retired?: { readonly version: number; readonly at: number };
}

const RECONCILE_EVERY_MS = 1_000;
/** API instances re-read the serving versions every 250 ms; in-flight queries finish well within this. */
const DROP_AFTER_MS = 5_000;

/**
 * Runs every projection's serving version, and builds a requested version beside it (a
 * rebuild). What serves and what is being built is read from the durable catalog, so a
 * rebuild requested by the CLI or the API is picked up here, and a rebuild whose projector
 * died resumes from its own checkpoint when the projector starts again.
 *
 * Projector instances share the partitions (docs/adr/0011): the serving versions are fed by one
 * consumer per instance, a member of the group `<topic>.projector`; each rebuild by one member per
 * instance of the group `<topic>.projector.rebuild.<name>.v<version>`. Any instance may switch a
 * caught-up rebuild (the catalog's LWT makes it happen once); every instance then moves the new
 * version into its serving feed once no instance still builds it.
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
  private feed?: ProjectionFeed;
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
    // The rows the partitions' writers wrote ahead (their live lane) are not written again.
    const rowsWritten = new LiveTimelineRows(this.redis, projector.eventsTopic);
    for (const [name, create] of Object.entries({
      timeline: (v: number) => new TimelineProjection(store('timeline', v), v, rowsWritten),
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
    await Promise.all([this.feed, ...[...this.slots.values()].map((s) => s.rebuild?.feed)].map((f) => f?.stop()));
    await this.log?.disconnect();
    await this.cassandra?.shutdown();
    await this.redis?.quit().catch(() => undefined);
  }

  private runners(): ProjectionRunner[] {
    return [...this.slots.values()].flatMap((s) => [s.serving, s.rebuild?.runner].filter((r): r is ProjectionRunner => r !== undefined));
  }

  /** The partitions this instance applies the serving versions of. */
  partitions(): readonly number[] {
    return this.feed?.partitions ?? [];
  }

  private rebuildGroup(name: string, version: number): string {
    return `${this.settings.projector.eventsTopic}.projector.rebuild.${name}.v${version}`;
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
      if (!slot.serving || slot.serving.projection.version !== v.serving) await this.serve(slot, v.serving);
      if (v.rebuilding !== null && !slot.rebuild) {
        this.logger.log(`Building ${v.name} v${v.rebuilding} beside v${v.serving}`);
        slot.rebuild = await this.startRebuild(slot, v.rebuilding);
      }
      if (slot.rebuild) {
        const servingFailed = slot.serving!.failed || runs.some((r) => r.name === v.name && r.version === v.serving && r.state === 'FAILED');
        await this.advanceRebuild(slot, servingFailed);
      }
      // Versions neither served nor being built (left behind by a switch whose projector died before dropping them).
      for (const run of runs.filter((r) => r.name === v.name && r.version !== v.serving && r.version !== v.rebuilding)) {
        if (slot.retired?.version === run.version && Date.now() - slot.retired.at < DROP_AFTER_MS) continue;
        await this.drop(slot, run.version);
      }
    }
    if (!this.feed && !this.stopped) {
      // A new set of serving versions: a new feed (it rejoins the group and reloads every checkpoint).
      const runners = [...this.slots.values()].flatMap((s) => (s.serving ? [s.serving] : []));
      this.feed = new ProjectionFeed(this.log, `${this.settings.projector.eventsTopic}.projector`, runners);
      await this.feed.start();
    }
  }

  /**
   * Makes `version` the slot's serving runner: the rebuilt one when this instance built it, a new
   * one otherwise. The serving feed stops first (it is started again with the new set), and the
   * version is applied as serving only once no instance builds it any longer: two instances
   * never apply the same partition of one version at once.
   */
  private async serve(slot: Slot, version: number): Promise<void> {
    await this.feed?.stop();
    this.feed = undefined;
    let runner: ProjectionRunner;
    if (slot.rebuild?.runner.projection.version === version) {
      await slot.rebuild.feed.stop();
      runner = slot.rebuild.runner;
      slot.rebuild = undefined;
      await runner.promote();
    } else {
      runner = await this.startRunner(slot, version, 'serving');
    }
    await this.rebuildersGone(slot.name, version);
    if (slot.serving) {
      this.logger.log(`${slot.name} v${version} now serves reads (v${slot.serving.projection.version} retires)`);
      slot.retired = { version: slot.serving.projection.version, at: Date.now() };
    }
    slot.serving = runner;
  }

  /** Waits until no instance is a member of the version's rebuild group (left, or expired after the session timeout). */
  private async rebuildersGone(name: string, version: number): Promise<void> {
    const group = this.rebuildGroup(name, version);
    while ((await this.log.groupMembers(group)) > 0 && !this.stopped) {
      await new Promise((r) => setTimeout(r, RECONCILE_EVERY_MS));
    }
  }

  private async startRunner(slot: Slot, version: number, role: RunnerRole, servingVersion?: number): Promise<ProjectionRunner> {
    const { projector } = this.settings;
    const serving = servingVersion === undefined ? undefined : slot.create(servingVersion);
    const runner = new ProjectionRunner(
      slot.create(version),
      {
        log: this.log,
        chunkSize: role === 'serving' ? projector.chunkSize : projector.rebuildChunkSize,
        isTransient: (err) => isTransientCassandraError(err) || isTransientRedisError(err),
        publish: async (p: Projection, partition, nextOffset, changes) => {
          // Messages and leaves are announced by their partition's writer (docs/adr/0009), presence by the API instances.
          if (p.name === 'inbox') await this.publisher.publish({ projection: p.name, version: p.version, partition, nextOffset, changes });
        },
        onStatus: (status: ProjectionRun) => this.catalog.saveRun(status),
        servingCheckpoints: serving && (() => serving.checkpoints()),
      },
      role,
    );
    await runner.start();
    return runner;
  }

  private async startRebuild(slot: Slot, version: number): Promise<NonNullable<Slot['rebuild']>> {
    const runner = await this.startRunner(slot, version, 'rebuilding', slot.serving!.projection.version);
    const feed = new ProjectionFeed(this.log, this.rebuildGroup(slot.name, version), [runner]);
    await feed.start();
    return { runner, feed };
  }

  /**
   * Switches a rebuild that has caught up with the serving version, judged on the stored
   * checkpoints of every partition, so any instance may; the catalog's LWT lets one switch
   * happen. Every instance (this one too) then serves it at its next reconciliation.
   */
  private async advanceRebuild(slot: Slot, servingFailed: boolean): Promise<void> {
    const rebuild = slot.rebuild!.runner;
    if (rebuild.failed) return; // stays FAILED (and visible) until the projector is restarted, which resumes it
    const [servingAt, rebuildAt, ends] = await Promise.all([slot.serving!.projection.checkpoints(), rebuild.projection.checkpoints(), this.log.endOffsets()]);
    if (!mayTakeOver({ serving: servingAt, rebuild: rebuildAt, ends, servingFailed })) return;
    if (await this.catalog.switchTo(slot.name, rebuild.projection.version)) {
      // Its status says LIVE at once, as the catalog does (moving it into the serving feed waits for the next reconciliation).
      await rebuild.promote();
      this.logger.log(`${slot.name} v${rebuild.projection.version} has caught up: it serves reads from now on`);
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
