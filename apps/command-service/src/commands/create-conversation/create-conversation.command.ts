import { directConversationId, groupConversationIdFor, isClientConversationId, isUserId, type CreateConversation } from '@parley/domain';
import { randomInt } from 'node:crypto';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString } from 'class-validator';
import { CommandRequestDto } from '../command-context';

export class CreateConversationRequestDto extends CommandRequestDto {
  @IsIn(['DIRECT', 'GROUP'], { message: 'kind must be DIRECT or GROUP' })
  kind!: 'DIRECT' | 'GROUP';

  @IsOptional()
  @IsString()
  title?: string;

  @IsOptional()
  @IsString()
  clientConversationId?: string;

  @IsArray()
  @ArrayMaxSize(1000, { message: 'memberIds may name at most 1000 users' })
  @IsString({ each: true })
  memberIds!: string[];
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** 26 random base-36 characters: about 134 bits, unguessable (ids are not secret, but not enumerable). */
export const newGroupConversationId = (): string =>
  `g_${Array.from({ length: 26 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')}`;

/**
 * The new conversation's id, chosen before the request is validated (it decides where the
 * command goes). DIRECT ids are derived from the pair ('' when the pair is invalid: the decider
 * says why); a GROUP id is derived from the creator and their clientConversationId when there
 * is one (a retry lands on the same group), and otherwise drawn until it falls in a partition
 * this instance owns (when it owns any), so creating a group is not forwarded.
 */
export function conversationIdFor(
  request: { kind?: unknown; memberIds?: unknown; clientConversationId?: unknown; context?: { actorId?: unknown } },
  ownedHere: (id: string) => boolean,
): string {
  const actorId = request?.context?.actorId;
  if (request?.kind === 'GROUP' && isClientConversationId(request.clientConversationId) && isUserId(actorId)) {
    return groupConversationIdFor(actorId, request.clientConversationId);
  }
  if (request?.kind === 'DIRECT') {
    const others = Array.isArray(request.memberIds) ? [...new Set(request.memberIds)].filter((id) => id !== actorId) : [];
    return others.length === 1 && isUserId(others[0]) && isUserId(actorId) ? directConversationId(actorId, others[0]) : '';
  }
  let id = newGroupConversationId();
  for (let tries = 1; tries < 1000 && !ownedHere(id); tries++) id = newGroupConversationId();
  return id;
}

export const toCreateConversation = (
  { kind, title, memberIds, clientConversationId, context }: CreateConversationRequestDto,
  conversationId: string,
  now: string,
): CreateConversation => ({
  type: 'CreateConversation',
  data: { conversationId, kind, title, memberIds, clientConversationId, actorId: context.actorId, now },
});
