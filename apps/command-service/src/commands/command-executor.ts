import type { ConversationCommand } from '@parley/domain';
import { Injectable } from '@nestjs/common';
import { PartitionWriters } from '../writer/partition-writers';
import type { Decision } from '../writer/partition-writer';
import type { CommandContext } from './command-context';

export type { Decision };

/**
 * Decide and append on the partition's writer: the one path every command handler takes.
 * Rejections are DomainErrors thrown by decide; nothing is appended then.
 */
@Injectable()
export class CommandExecutor {
  constructor(private readonly writers: PartitionWriters) {}

  execute(command: ConversationCommand, context: CommandContext): Promise<Decision> {
    return this.writers.decide(command, context);
  }
}
