import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, type Decision } from '../command-executor';
import { MarkReadCommand } from './mark-read.command';

@CommandHandler(MarkReadCommand)
export class MarkReadHandler implements ICommandHandler<MarkReadCommand, Decision> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ request, context }: MarkReadCommand): Promise<Decision> {
    const { conversationId, upTo } = request;
    return this.executor.execute(
      { type: 'MarkRead', data: { conversationId, upTo: { ...upTo }, actorId: context.actorId, now: new Date().toISOString() } },
      context,
    );
  }
}
