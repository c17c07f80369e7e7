import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, type Decision } from '../command-executor';
import { CreateConversationCommand } from './create-conversation.command';

@CommandHandler(CreateConversationCommand)
export class CreateConversationHandler implements ICommandHandler<CreateConversationCommand, Decision> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ request, context }: CreateConversationCommand): Promise<Decision> {
    const { conversationId, kind, title, memberIds, clientConversationId } = request;
    return this.executor.execute(
      {
        type: 'CreateConversation',
        data: { conversationId, kind, title, memberIds, clientConversationId, actorId: context.actorId, now: new Date().toISOString() },
      },
      context,
    );
  }
}
