import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString } from 'class-validator';
import { CommandRequestDto, type CommandContext } from '../command-context';

export class CreateConversationRequestDto extends CommandRequestDto {
  @IsIn(['DIRECT', 'GROUP'], { message: 'kind must be DIRECT or GROUP' })
  kind!: 'DIRECT' | 'GROUP';

  @IsOptional()
  @IsString()
  title?: string;

  @IsArray()
  @ArrayMaxSize(1000, { message: 'memberIds may name at most 1000 users' })
  @IsString({ each: true })
  memberIds!: string[];
}

export class CreateConversationCommand {
  constructor(
    readonly request: Omit<CreateConversationRequestDto, 'context'>,
    readonly context: CommandContext,
  ) {}
}
