import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, type Decision } from '../command-executor';
import { SendMessageCommand } from './send-message.command';

@CommandHandler(SendMessageCommand)
export class SendMessageHandler implements ICommandHandler<SendMessageCommand, Decision> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ request, context }: SendMessageCommand): Promise<Decision> {
    const { conversationId, body, clientMessageId } = request;
    return this.executor.execute(
      { type: 'SendMessage', data: { conversationId, body, clientMessageId, actorId: context.actorId, now: new Date().toISOString() } },
      context,
    );
  }
}
