import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, type Decision } from '../command-executor';
import { LeaveConversationCommand } from './leave-conversation.command';

@CommandHandler(LeaveConversationCommand)
export class LeaveConversationHandler implements ICommandHandler<LeaveConversationCommand, Decision> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ request, context }: LeaveConversationCommand): Promise<Decision> {
    return this.executor.execute(
      { type: 'LeaveConversation', data: { conversationId: request.conversationId, actorId: context.actorId, now: new Date().toISOString() } },
      context,
    );
  }
}
