import { IsString } from 'class-validator';
import type { JoinConversation } from '@parley/domain';
import { CommandRequestDto } from '../command-context';

export class JoinConversationRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;
}

export const toJoinConversation = ({ conversationId, context }: JoinConversationRequestDto, now: string): JoinConversation => ({
  type: 'JoinConversation',
  data: { conversationId, actorId: context.actorId, now },
});
