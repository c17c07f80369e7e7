import { checkpointsPassed, ConversationReader, createCassandraClient, TimelineReader, type CassandraClient } from '@parley/cassandra';
import { createCommandServiceClient, type CommandServiceClient } from '@parley/proto';
import { createRedis, presenceKeys, RedisRateLimiter, type RedisClient } from '@parley/redis';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { API_SETTINGS, type GraphqlApiSettings } from './graphql-api.config';
import { LiveUpdates } from './live/live-updates';
import { Presence } from './presence';

/** The API's connections: the command service (writes), Cassandra and Redis (reads, live updates). */
@Injectable()
export class ApiService implements OnModuleInit, OnApplicationShutdown {
  readonly commands: CommandServiceClient;
  readonly cassandra: CassandraClient;
  readonly reader: ConversationReader;
  readonly timeline: TimelineReader;
  readonly live: LiveUpdates;
  readonly presence: Presence;
  readonly rateLimiter: RedisRateLimiter;
  private readonly redis: RedisClient;

  constructor(@Inject(API_SETTINGS) readonly settings: GraphqlApiSettings) {
    this.commands = createCommandServiceClient(settings.api.commandServiceUrl);
    this.cassandra = createCassandraClient(settings.cassandra);
    this.reader = new ConversationReader(this.cassandra, settings.cassandra.keyspace);
    this.timeline = new TimelineReader(this.cassandra, settings.cassandra.keyspace, 1);
    this.live = new LiveUpdates(settings.redis, settings.api.eventsTopic);
    this.redis = createRedis(settings.redis, 'api');
    this.presence = new Presence(this.redis, settings.api.eventsTopic);
    this.rateLimiter = new RedisRateLimiter(this.redis, settings.api.eventsTopic, settings.api.rateLimitPerSecond, settings.api.rateLimitBurst);
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.cassandra.connect(), this.live.start()]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.commands.close();
    await this.presence.stop();
    await Promise.all([this.live.stop(), this.cassandra.shutdown(), this.redis.quit().catch(() => undefined)]);
  }

  /** Membership from the presence projection's sets (what presence fan-out is for). */
  async isMember(conversationId: string, userId: string): Promise<boolean> {
    return (await this.redis.sismember(presenceKeys(this.settings.api.eventsTopic, 1).members(conversationId), userId)) === 1;
  }

  /** Waits (bounded) until the timeline and inbox projections include `position`. */
  async waitForProjections(position: { partition: number; offset: string }): Promise<boolean> {
    const deadline = Date.now() + this.settings.api.consistencyTimeoutMs;
    for (;;) {
      const passed = await checkpointsPassed(this.cassandra, this.settings.cassandra.keyspace, ['timeline', 'inbox'], 1, position).catch(() => false);
      if (passed) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
