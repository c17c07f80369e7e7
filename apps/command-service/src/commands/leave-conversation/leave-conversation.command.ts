import { IsString } from 'class-validator';
import { CommandRequestDto, type CommandContext } from '../command-context';

export class LeaveConversationRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;
}

export class LeaveConversationCommand {
  constructor(
    readonly request: Omit<LeaveConversationRequestDto, 'context'>,
    readonly context: CommandContext,
  ) {}
}
