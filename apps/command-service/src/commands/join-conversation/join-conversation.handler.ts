import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, type Decision } from '../command-executor';
import { JoinConversationCommand } from './join-conversation.command';

@CommandHandler(JoinConversationCommand)
export class JoinConversationHandler implements ICommandHandler<JoinConversationCommand, Decision> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ request, context }: JoinConversationCommand): Promise<Decision> {
    return this.executor.execute(
      { type: 'JoinConversation', data: { conversationId: request.conversationId, actorId: context.actorId, now: new Date().toISOString() } },
      context,
    );
  }
}
