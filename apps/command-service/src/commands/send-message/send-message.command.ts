import { IsString } from 'class-validator';
import { CommandRequestDto, type CommandContext } from '../command-context';

export class SendMessageRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;

  @IsString()
  body!: string;

  @IsString()
  clientMessageId!: string;
}

export class SendMessageCommand {
  constructor(
    readonly request: Omit<SendMessageRequestDto, 'context'>,
    readonly context: CommandContext,
  ) {}
}
