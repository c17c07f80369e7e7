import { createKafka, EVENT_LOG, KafkaEventLog } from '@parley/event-log';
import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { CommandServiceConfig } from './command-service.config';
import { CLOCK, DecideHandler, systemClock } from './commands/decide.command';
import { CommandServiceController } from './grpc/command-service.controller';
import { HealthController } from './health/health.controller';
import { OwnerForwarder } from './grpc/owner-forwarder';
import { OLDER_MESSAGES, TimelineOlderMessages } from './read-model/older-messages';
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
        { provide: OLDER_MESSAGES, useClass: TimelineOlderMessages },
        PartitionWriters,
        OwnerForwarder,
        DecideHandler,
        { provide: CLOCK, useValue: systemClock },
      ],
    };
  }
}
