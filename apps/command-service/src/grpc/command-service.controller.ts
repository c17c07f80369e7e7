import { findMessage, membersInJoinOrder, messageIdFor, type ConversationCommand, type ConversationState, type LogPosition } from '@parley/domain';
import { commands as api, type CommandMethod, type WireCommandsRequest } from '@parley/proto';
import { Controller, Inject, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { validateSync, type ValidationError } from 'class-validator';
import { CommandContextDto, type CommandContext } from '../commands/command-context';
import {
  conversationIdFor,
  CreateConversationRequestDto,
  toCreateConversation,
} from '../commands/create-conversation/create-conversation.command';
import { CLOCK, Decide, type Clock, type Decision } from '../commands/decide.command';
import { JoinConversationRequestDto, toJoinConversation } from '../commands/join-conversation/join-conversation.command';
import { LeaveConversationRequestDto, toLeaveConversation } from '../commands/leave-conversation/leave-conversation.command';
import { MarkReadRequestDto, PositionDto, toMarkRead } from '../commands/mark-read/mark-read.command';
import { SendMessageRequestDto, toSendMessage } from '../commands/send-message/send-message.command';
import { MembershipRequestDto } from '../queries/membership.query';
import type { Metadata } from '@grpc/grpc-js';
import { Histogram } from 'prom-client';
import type { Observable } from 'rxjs';
import { CommandServiceConfig } from '../command-service.config';
import { PartitionWriters } from '../writer/partition-writers';
import { serveCommandStream } from './command-stream';
import { invalidArgument, toRpcException, UnavailableError } from './grpc-errors';
import { FORWARDED_METADATA, OwnerForwarder } from './owner-forwarder';

const commandDuration = new Histogram({
  name: 'parley_command_duration_seconds',
  help: 'Commands from receipt to durable append (or rejection), by command and outcome',
  labelNames: ['command', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
});

type Dto<T> = new () => T;

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => [
    ...Object.values(e.constraints ?? {}).map((m) => (m.includes(e.property) ? m : `${prefix}${e.property}: ${m}`)),
    ...describe(e.children ?? [], `${prefix}${e.property}.`),
  ]);
}

/**
 * Shape checks at the boundary (class-validator); business rules are the decider's. The DTO
 * is filled in by hand (the request is already a plain object from the proto loader):
 * class-transformer's plainToInstance cost as much as the validation itself.
 */
function validated<T extends object>(DtoClass: Dto<T>, request: unknown, nested: Record<string, Dto<object>> = {}): T {
  const plain = (request ?? {}) as Record<string, unknown>;
  const dto = Object.assign(new DtoClass(), plain);
  for (const [key, NestedClass] of Object.entries({ context: CommandContextDto, ...nested })) {
    const value = plain[key];
    if (value && typeof value === 'object') Object.assign(dto, { [key]: Object.assign(new NestedClass(), value) });
  }
  const errors = validateSync(dto, { whitelist: true });
  if (errors.length > 0) throw invalidArgument(describe(errors).join('; '), errors[0].property);
  return dto;
}

const position = (p: LogPosition | null | undefined): api.Position | undefined =>
  p ? { partition: p.partition, offset: p.offset } : undefined;
const lastPosition = (d: Decision) => position(d.positions.at(-1));

function conversationOf(state: ConversationState): api.Conversation {
  if (state.status !== 'CREATED') throw new Error('A created conversation was expected');
  return {
    id: state.conversationId,
    kind: state.kind,
    title: state.title ?? undefined,
    createdAt: state.createdAt,
    createdBy: state.createdBy,
    members: membersInJoinOrder(state).map(({ userId, joinedAt }) => ({ userId, joinedAt })),
  };
}

@Controller()
@api.CommandServiceControllerMethods()
export class CommandServiceController implements api.CommandServiceController {
  private readonly logger = new Logger(CommandServiceController.name);

  constructor(
    private readonly commandBus: CommandBus,
    private readonly writers: PartitionWriters,
    private readonly forwarder: OwnerForwarder,
    private readonly config: CommandServiceConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Validated at the boundary into the domain command; decided, appended and answered by the partition's writer. */
  private decide(command: ConversationCommand, context: CommandContext): Promise<Decision> {
    return this.commandBus.execute(new Decide(command, context));
  }

  /**
   * Decides the command here when this instance owns the conversation's partition; otherwise
   * hands the request as it came to the owner (once: a forwarded command is never forwarded).
   */
  private async run<T>(
    command: CommandMethod,
    request: object,
    metadata: Metadata | undefined,
    conversationId: string,
    work: () => Promise<T>,
  ): Promise<T> {
    const timer = commandDuration.startTimer({ command });
    try {
      const result = await this.routed(command, request, metadata, conversationId, work);
      timer({ outcome: 'ok' });
      return result;
    } catch (err) {
      const rpc = toRpcException(err);
      timer({ outcome: String((rpc.getError() as { code?: number }).code ?? 'error') });
      if ((rpc.getError() as { code?: number }).code === 13) this.logger.error(err instanceof Error ? err.stack : err);
      throw rpc;
    }
  }

  /**
   * Runs `work` when this instance owns the conversation's partition; otherwise forwards the
   * request to the owner. An owner that cannot be reached (dead, or its partitions moving) is
   * looked up again until the command timeout: the group gives its partitions to another member.
   */
  private async routed<T>(command: CommandMethod, request: object, metadata: Metadata | undefined, conversationId: string, work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.config.commandTimeoutMs;
    for (;;) {
      const route = await this.writers.route(conversationId);
      if (route.local) return work();
      if (metadata?.get(FORWARDED_METADATA).length) {
        throw new UnavailableError('the command was forwarded to an instance that no longer owns its partition; retry');
      }
      try {
        return await this.forwarder.forward<object, T>(route.owner, command, request);
      } catch (err) {
        if (!(err as { ownerUnreachable?: boolean }).ownerUnreachable || Date.now() >= deadline) throw err;
        this.writers.forgetOwners();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  createConversation(request: api.CreateConversationRequest, metadata?: Metadata): Promise<api.CreateConversationResponse> {
    const conversationId = conversationIdFor(request, (id) => this.writers.owns(id));
    return this.run('createConversation', request, metadata, conversationId, async () => {
      const dto = validated(CreateConversationRequestDto, request);
      const decision = await this.decide(toCreateConversation(dto, conversationId, this.clock()), dto.context);
      return { conversation: conversationOf(decision.after), position: lastPosition(decision) };
    });
  }

  joinConversation(request: api.JoinConversationRequest, metadata?: Metadata): Promise<api.JoinConversationResponse> {
    return this.run('joinConversation', request, metadata, String(request?.conversationId), async () => {
      const dto = validated(JoinConversationRequestDto, request);
      const decision = await this.decide(toJoinConversation(dto, this.clock()), dto.context);
      const member = membersInJoinOrder(decision.after).find((m) => m.userId === dto.context.actorId)!;
      return { member: { userId: member.userId, joinedAt: member.joinedAt }, position: lastPosition(decision) };
    });
  }

  leaveConversation(request: api.LeaveConversationRequest, metadata?: Metadata): Promise<api.LeaveConversationResponse> {
    return this.run('leaveConversation', request, metadata, String(request?.conversationId), async () => {
      const dto = validated(LeaveConversationRequestDto, request);
      const decision = await this.decide(toLeaveConversation(dto, this.clock()), dto.context);
      return { position: lastPosition(decision) };
    });
  }

  sendMessage(request: api.SendMessageRequest, metadata?: Metadata): Promise<api.SendMessageResponse> {
    return this.run('sendMessage', request, metadata, String(request?.conversationId), async () => {
      const dto = validated(SendMessageRequestDto, request);
      const decision = await this.decide(toSendMessage(dto, this.clock()), dto.context);
      // A retry of a message the state still holds decides nothing: find the original there.
      const message = decision.message ?? findMessage(decision.after, messageIdFor(dto.conversationId, dto.context.actorId, dto.clientMessageId))!;
      return {
        message: {
          id: message.messageId,
          clientMessageId: message.clientMessageId,
          conversationId: dto.conversationId,
          senderId: message.senderId,
          body: message.body,
          sentAt: message.sentAt,
          position: position(message.position),
        },
        appended: decision.events.length > 0,
      };
    });
  }

  membership(request: api.MembershipRequest, metadata?: Metadata): Promise<api.MembershipResponse> {
    return this.run('membership', request, metadata, String(request?.conversationId), async () => {
      const dto = validated(MembershipRequestDto, request);
      const joinedAt = await this.writers.membership(dto.conversationId, dto.context.actorId);
      return { member: joinedAt !== null, joinedAt: joinedAt ?? '' };
    });
  }

  /** The same commands over one long-lived stream per caller (what the GraphQL API uses): see `command-stream.ts`. */
  commands(frames: Observable<api.CommandsRequest>): Observable<api.CommandsResponse> {
    // The wire shape of the stream's oneofs differs from the generated types (see WireEnvelope).
    const served = serveCommandStream(frames as unknown as Observable<WireCommandsRequest>, (method, request) =>
      (this[method] as (request: object) => Promise<object>).call(this, request),
    );
    return served as unknown as Observable<api.CommandsResponse>;
  }

  markRead(request: api.MarkReadRequest, metadata?: Metadata): Promise<api.MarkReadResponse> {
    return this.run('markRead', request, metadata, String(request?.conversationId), async () => {
      const dto = validated(MarkReadRequestDto, request, { upTo: PositionDto });
      const decision = await this.decide(toMarkRead(dto, this.clock()), dto.context);
      const member = membersInJoinOrder(decision.after).find((m) => m.userId === dto.context.actorId);
      return { readMarker: position(member?.readMarker), position: lastPosition(decision) };
    });
  }
}
