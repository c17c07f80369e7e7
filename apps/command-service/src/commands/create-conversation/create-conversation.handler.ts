import { directConversationId, isUserId } from '@parley/domain';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomInt } from 'node:crypto';
import { CommandExecutor, type Decision } from '../command-executor';
import { CreateConversationCommand } from './create-conversation.command';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** 26 random base-36 characters: about 134 bits, unguessable (ids are not secret, but not enumerable). */
export const newGroupConversationId = (): string =>
  `g_${Array.from({ length: 26 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')}`;

@CommandHandler(CreateConversationCommand)
export class CreateConversationHandler implements ICommandHandler<CreateConversationCommand, Decision> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ request, context }: CreateConversationCommand): Promise<Decision> {
    const { kind, title, memberIds } = request;
    return this.executor.execute(
      {
        type: 'CreateConversation',
        data: { conversationId: this.conversationIdFor(kind, context.actorId, memberIds), kind, title, memberIds, actorId: context.actorId, now: new Date().toISOString() },
      },
      context,
    );
  }

  /** DIRECT ids are derived from the pair; when the pair is invalid the decider says why. */
  private conversationIdFor(kind: string, actorId: string, memberIds: readonly string[]): string {
    if (kind !== 'DIRECT') return newGroupConversationId();
    const others = [...new Set(memberIds)].filter((id) => id !== actorId);
    return others.length === 1 && isUserId(others[0]) && isUserId(actorId) ? directConversationId(actorId, others[0]) : '';
  }
}
