import { Type } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';

/** Who a command acts for and how to trace it; set by the (authenticating) caller. */
export class CommandContextDto {
  @IsString()
  @IsNotEmpty({ message: 'context.actorId is required' })
  @MaxLength(64)
  actorId!: string;

  @IsString()
  @IsNotEmpty({ message: 'context.commandId is required (unique per command attempt)' })
  @MaxLength(128)
  commandId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  correlationId = '';
}

export abstract class CommandRequestDto {
  @ValidateNested()
  @Type(() => CommandContextDto)
  context!: CommandContextDto;
}

export type CommandContext = Readonly<CommandContextDto>;
