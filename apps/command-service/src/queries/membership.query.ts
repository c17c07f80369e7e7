import { IsString } from 'class-validator';
import { CommandRequestDto } from '../commands/command-context';

/**
 * Whether the actor is a member of a conversation, as its writer holds it now: the one query the
 * write side answers (a live subscription confirms itself with it once it listens, docs/adr/0015).
 */
export class MembershipRequestDto extends CommandRequestDto {
  @IsString()
  conversationId!: string;
}
