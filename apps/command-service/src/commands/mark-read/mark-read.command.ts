import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { CommandRequestDto, type CommandContext } from '../command-context';

export class PositionDto {
  @IsInt()
  @Min(0)
  partition!: number;

  @IsString()
  @Matches(/^\d{1,19}$/, { message: 'upTo.offset must be a non-negative integer' })
  offset!: string;
}

export class MarkReadRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;

  @ValidateNested()
  @Type(() => PositionDto)
  upTo!: PositionDto;
}

export class MarkReadCommand {
  constructor(
    readonly request: Omit<MarkReadRequestDto, 'context'>,
    readonly context: CommandContext,
  ) {}
}
