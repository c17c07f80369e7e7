import { IsString } from 'class-validator';
import type { LeaveConversation } from '@parley/domain';
import { CommandRequestDto } from '../command-context';

export class LeaveConversationRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;
}

export const toLeaveConversation = ({ conversationId, context }: LeaveConversationRequestDto, now: string): LeaveConversation => ({
  type: 'LeaveConversation',
  data: { conversationId, actorId: context.actorId, now },
});
