import {
  decideConversation,
  evolveConversation,
  isDirectConversationId,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type LogPosition,
} from '@parley/domain';
import { EVENT_LOG, type EventLog, type NewEvent } from '@parley/event-log';
import { Inject, Injectable } from '@nestjs/common';
import { ConversationStateStore } from '../conversation-state/conversation-state.store';
import type { CommandContext } from './command-context';

export interface Decision {
  /** The state before the command. */
  readonly before: ConversationState;
  /** The state with the command's events applied. */
  readonly after: ConversationState;
  readonly events: readonly ConversationEvent[];
  readonly positions: readonly LogPosition[];
}

/**
 * Load the conversation's state, decide, append: the one path every command handler takes.
 * Rejections are DomainErrors thrown by decide; nothing is appended then.
 */
@Injectable()
export class CommandExecutor {
  constructor(
    private readonly store: ConversationStateStore,
    @Inject(EVENT_LOG) private readonly log: EventLog,
  ) {}

  execute(command: ConversationCommand, context: CommandContext): Promise<Decision> {
    const { conversationId } = command.data;
    return this.store.withState(conversationId, async (before) => {
      const events = decideConversation(command, before);
      const positions = await this.log.append(
        conversationId,
        events.map((event, index) => withMetadata(event, index, command.data.now, context)),
      );
      this.store.applyOwn(conversationId, events, positions);
      const after = events.reduce((state, event, i) => evolveConversation(state, event, positions[i]), before);
      return { before, after, events, positions };
    });
  }
}

/**
 * Event ids are the record keys, so a retry must produce the same ids: a message's is its
 * (deterministic) message id; a DIRECT conversation's creation is derived from its
 * (deterministic) conversation id, so two users creating it at once collapse to one record;
 * the rest are derived from the command id, which the caller keeps across retries.
 */
function eventIdFor(event: ConversationEvent, index: number, context: CommandContext): string {
  const { conversationId } = event.data;
  if (event.type === 'MessageSent') return event.data.messageId;
  if (isDirectConversationId(conversationId)) {
    if (event.type === 'ConversationCreated') return `${conversationId}.created`;
    if (event.type === 'UserJoined') return `${conversationId}.joined.${event.data.userId}`;
  }
  return `${context.commandId}.${index}`;
}

function withMetadata(event: ConversationEvent, index: number, now: string, context: CommandContext): NewEvent {
  return {
    event,
    metadata: {
      eventId: eventIdFor(event, index, context),
      actorId: context.actorId,
      occurredAt: now,
      causationId: context.commandId,
      correlationId: context.correlationId || context.commandId,
    },
  };
}
