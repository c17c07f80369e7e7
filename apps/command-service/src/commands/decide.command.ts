import type { ConversationCommand } from '@parley/domain';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Decision } from '../writer/partition-writer';
import { PartitionWriters } from '../writer/partition-writers';
import type { CommandContext } from './command-context';

export type { Decision };

/** A validated domain command on the CommandBus: decided, appended and answered by its partition's writer. */
export class Decide {
  constructor(
    readonly command: ConversationCommand,
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(Decide)
export class DecideHandler implements ICommandHandler<Decide, Decision> {
  constructor(private readonly writers: PartitionWriters) {}

  execute({ command, context }: Decide): Promise<Decision> {
    return this.writers.decide(command, context);
  }
}

/** The time commands are decided at (ISO-8601), injected once: the domain has no clock. */
export const CLOCK = Symbol('CLOCK');
export type Clock = () => string;
export const systemClock: Clock = () => new Date().toISOString();
