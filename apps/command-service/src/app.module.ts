import { TimelineLiveWriter } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { createKafka, EVENT_LOG, KafkaEventLog } from '@parley/event-log';
import { createRedis, RedisConfig, RedisConversationChannels } from '@parley/redis';
import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { CommandServiceConfig } from './command-service.config';
import { CLOCK, DecideHandler, systemClock } from './commands/decide.command';
import { CommandServiceController } from './grpc/command-service.controller';
import { HealthController } from './health/health.controller';
import { OwnerForwarder } from './grpc/owner-forwarder';
import { LIVE_LANE, LiveLane } from './live/live-lane';
import { OLDER_MESSAGES, TimelineOlderMessages } from './read-model/older-messages';
import { ReadModel } from './read-model/read-model';
import { CassandraSnapshots, CONVERSATION_SNAPSHOTS } from './snapshots/conversation-snapshots';
import { PartitionWriters } from './writer/partition-writers';

@Module({})
export class CommandServiceModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_LOG) private readonly log: KafkaEventLog) {}

  async onApplicationShutdown(): Promise<void> {
    await this.log.disconnect();
  }

  static forRoot(config: CommandServiceConfig): DynamicModule {
    return {
      module: CommandServiceModule,
      imports: [CqrsModule.forRoot(), TerminusModule],
      controllers: [CommandServiceController, HealthController],
      providers: [
        { provide: CommandServiceConfig, useValue: config },
        {
          provide: EVENT_LOG,
          useFactory: async () => {
            const log = new KafkaEventLog(createKafka(config, 'command-service'), config.eventsTopic, config.eventsTopicPartitions);
            await log.connect();
            return log;
          },
        },
        ReadModel,
        { provide: OLDER_MESSAGES, useClass: TimelineOlderMessages },
        { provide: CONVERSATION_SNAPSHOTS, useClass: CassandraSnapshots },
        {
          provide: LIVE_LANE,
          inject: [ReadModel],
          useFactory: (readModel: ReadModel) =>
            new LiveLane(
              new TimelineLiveWriter(readModel.client, readModel.config.keyspace, readModel.versions),
              new RedisConversationChannels(createRedis(loadConfig(RedisConfig), 'command-service-live'), config.eventsTopic),
            ),
        },
        PartitionWriters,
        OwnerForwarder,
        DecideHandler,
        { provide: CLOCK, useValue: systemClock },
      ],
    };
  }
}
