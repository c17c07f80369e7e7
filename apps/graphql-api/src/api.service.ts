import {
  checkpointsPassed,
  ConversationReader,
  createCassandraClient,
  ensureKeyspace,
  ProjectionCatalog,
  ServingVersions,
  TimelineReader,
  type CassandraClient,
  type ConversationRecord,
  type Versions,
} from '@parley/cassandra';
import { createKafka, KafkaEventLog, partitionForConversation } from '@parley/event-log';
import { createStreamedCommandServiceClient, type CommandServiceClient } from '@parley/proto';
import { createRedis, presenceKeys, RedisRateLimiter, type RedisClient } from '@parley/redis';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TokenVerifier } from './auth/jwt';
import { API_SETTINGS, type GraphqlApiSettings } from './graphql-api.config';
import { LiveUpdates } from './live/live-updates';
import { Presence } from './presence';

const MAX_CACHED_CONVERSATIONS = 100_000;

/** Readers of the projection versions serving at the moment. */
export interface Readers {
  readonly versions: Versions;
  readonly conversations: ConversationReader;
  readonly timeline: TimelineReader;
}

/** The API's connections: the command service (writes), Cassandra and Redis (reads, live updates), the log (events). */
@Injectable()
export class ApiService implements OnModuleInit, OnApplicationShutdown {
  readonly commands: CommandServiceClient;
  readonly cassandra: CassandraClient;
  readonly catalog: ProjectionCatalog;
  readonly log: KafkaEventLog;
  readonly live: LiveUpdates;
  readonly presence: Presence;
  readonly rateLimiter: RedisRateLimiter;
  readonly tokens: TokenVerifier;
  private readonly redis: RedisClient;
  private readonly versions: ServingVersions;
  private readers?: Readers;
  /** Conversation records never change once created: kept, bounded, so a burst of subscribers reads each once. */
  private readonly conversationCache = new Map<string, ConversationRecord>();

  constructor(@Inject(API_SETTINGS) readonly settings: GraphqlApiSettings) {
    this.commands = createStreamedCommandServiceClient(settings.api.commandServiceUrl);
    this.cassandra = createCassandraClient(settings.cassandra);
    this.catalog = new ProjectionCatalog(this.cassandra, settings.cassandra.keyspace);
    this.versions = new ServingVersions(this.catalog);
    this.log = new KafkaEventLog(createKafka(settings.api, 'api'), settings.api.eventsTopic, settings.api.eventsTopicPartitions);
    this.live = new LiveUpdates(settings.redis, settings.api.eventsTopic);
    this.redis = createRedis(settings.redis, 'api');
    this.presence = new Presence(this.redis, settings.api.eventsTopic);
    const { jwtSecret: secret, jwtJwksUrl: jwksUrl, jwtIssuer: issuer, jwtAudience: audience, jwtLeewaySeconds: leewaySeconds } = settings.api;
    this.tokens = new TokenVerifier({ secret, jwksUrl, issuer, audience, leewaySeconds });
    this.rateLimiter = new RedisRateLimiter(this.redis, settings.api.eventsTopic, settings.api.rateLimitPerSecond, settings.api.rateLimitBurst);
  }

  /**
   * What readiness reports: whether each dependency answers within a second (Cassandra and
   * Redis a round trip, Kafka a metadata and offsets request, the command service a connection).
   */
  async dependencies(): Promise<Record<string, { status: 'up' | 'down'; message?: string }>> {
    const probe = async (work: () => Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([work(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 1 s')), 1_000)))]);
        return { status: 'up' as const };
      } catch (err) {
        return { status: 'down' as const, message: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    };
    const [cassandra, redis, kafka, commandService] = await Promise.all([
      probe(() => this.cassandra.execute('SELECT release_version FROM system.local')),
      probe(() => this.redis.ping()),
      probe(() => this.log.endOffsets()),
      probe(async () => {
        if (!(await this.commands.reachable(800))) throw new Error(`no connection to ${this.settings.api.commandServiceUrl}`);
      }),
    ]);
    return { cassandra, redis, kafka, commandService };
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.cassandra.connect(), this.live.start(), this.log.connect()]);
    await ensureKeyspace(this.cassandra, this.settings.cassandra.keyspace, this.settings.cassandra.replicationFactor);
    await this.catalog.createTables();
  }

  async onApplicationShutdown(): Promise<void> {
    this.commands.close();
    await this.presence.stop();
    await Promise.all([this.live.stop(), this.cassandra.shutdown(), this.log.disconnect(), this.redis.quit().catch(() => undefined)]);
  }

  /**
   * Runs a read against the serving versions. A read that races a rebuild's switch and finds
   * the old version's tables dropped is retried once on the new version.
   */
  async read<T>(work: (readers: Readers) => Promise<T>): Promise<T> {
    try {
      return await work(await this.current());
    } catch (err) {
      if (!/unconfigured table/i.test((err as Error)?.message ?? '')) throw err;
      this.versions.invalidate();
      return work(await this.current());
    }
  }

  private async current(): Promise<Readers> {
    const versions = await this.versions.get();
    const same = this.readers && (['timeline', 'inbox', 'presence'] as const).every((k) => this.readers!.versions[k] === versions[k]);
    if (!same) {
      const { keyspace } = this.settings.cassandra;
      this.readers = {
        versions,
        conversations: new ConversationReader(this.cassandra, keyspace, versions),
        timeline: new TimelineReader(this.cassandra, keyspace, versions.timeline),
      };
    }
    return this.readers!;
  }

  async conversationRecords(ids: readonly string[]): Promise<Array<ConversationRecord | null>> {
    const missing = ids.filter((id) => !this.conversationCache.has(id));
    if (missing.length > 0) {
      const found = await this.read((r) => r.conversations.conversations(missing));
      found.forEach((record) => {
        if (!record) return;
        if (this.conversationCache.size >= MAX_CACHED_CONVERSATIONS) this.conversationCache.delete(this.conversationCache.keys().next().value!);
        this.conversationCache.set(record.id, record);
      });
    }
    return ids.map((id) => this.conversationCache.get(id) ?? null);
  }

  /** Membership from the presence projection's sets (what presence fan-out is for). */
  async isMember(conversationId: string, userId: string): Promise<boolean> {
    const { presence } = await this.versions.get();
    return (await this.redis.sismember(presenceKeys(this.settings.api.eventsTopic, presence).members(conversationId), userId)) === 1;
  }

  /** Waits (bounded) until the projections (by default timeline and inbox) include `position`. */
  async waitForProjections(position: { partition: number; offset: string }, projections: readonly ('timeline' | 'inbox')[] = ['timeline', 'inbox']): Promise<boolean> {
    const deadline = Date.now() + this.settings.api.consistencyTimeoutMs;
    for (;;) {
      const versions = await this.versions.get();
      const reached = (name: 'timeline' | 'inbox') =>
        checkpointsPassed(this.cassandra, this.settings.cassandra.keyspace, [name], versions[name], position).catch(() => false);
      if ((await Promise.all(projections.map(reached))).every(Boolean)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Waits (bounded) until the timeline (conversations and their members) holds the
   * conversation's partition as the log stands now. A negative answer ("not found", "not a
   * member") waits for this first, so a conversation created or joined a moment ago, through
   * any instance, is found. False: the read side did not catch up in time.
   */
  async timelineCaughtUp(conversationId: string): Promise<boolean> {
    const partition = partitionForConversation(conversationId, this.settings.api.eventsTopicPartitions);
    const end = BigInt((await this.log.endOffsets()).get(partition) ?? '0');
    return end === 0n || this.waitForProjections({ partition, offset: (end - 1n).toString() }, ['timeline']);
  }
}
