import { IsString } from 'class-validator';
import type { SendMessage } from '@parley/domain';
import { CommandRequestDto } from '../command-context';

export class SendMessageRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;

  @IsString()
  body!: string;

  @IsString()
  clientMessageId!: string;
}

export const toSendMessage = ({ conversationId, body, clientMessageId, context }: SendMessageRequestDto, now: string): SendMessage => ({
  type: 'SendMessage',
  data: { conversationId, body, clientMessageId, actorId: context.actorId, now },
});
