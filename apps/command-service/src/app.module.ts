import { createKafka, EVENT_LOG, KafkaEventLog } from '@parley/event-log';
import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { CommandServiceConfig } from './command-service.config';
import { CommandExecutor } from './commands/command-executor';
import { CreateConversationHandler } from './commands/create-conversation/create-conversation.handler';
import { JoinConversationHandler } from './commands/join-conversation/join-conversation.handler';
import { LeaveConversationHandler } from './commands/leave-conversation/leave-conversation.handler';
import { MarkReadHandler } from './commands/mark-read/mark-read.handler';
import { SendMessageHandler } from './commands/send-message/send-message.handler';
import { CommandServiceController } from './grpc/command-service.controller';
import { HealthController } from './health/health.controller';
import { OwnerForwarder } from './grpc/owner-forwarder';
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
        PartitionWriters,
        OwnerForwarder,
        CommandExecutor,
        CreateConversationHandler,
        JoinConversationHandler,
        LeaveConversationHandler,
        SendMessageHandler,
        MarkReadHandler,
      ],
    };
  }
}
