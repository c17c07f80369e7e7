import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Min, ValidateNested } from 'class-validator';
import type { MarkRead } from '@parley/domain';
import { CommandRequestDto } from '../command-context';

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

export const toMarkRead = ({ conversationId, upTo, context }: MarkReadRequestDto, now: string): MarkRead => ({
  type: 'MarkRead',
  data: { conversationId, upTo: { partition: upTo.partition, offset: upTo.offset }, actorId: context.actorId, now },
});
