import { IsString } from 'class-validator';
import { CommandRequestDto, type CommandContext } from '../command-context';

export class JoinConversationRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;
}

export class JoinConversationCommand {
  constructor(
    readonly request: Omit<JoinConversationRequestDto, 'context'>,
    readonly context: CommandContext,
  ) {}
}
