import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import type * as api from './generated/parley/commands/v1/command_service';
import { COMMAND_SERVICE_PROTO, protoRoot } from './proto-root';

export interface CallOptions {
  readonly deadlineMs?: number;
  /** Extra request metadata (e.g. that a command-service instance forwarded the call). */
  readonly metadata?: Readonly<Record<string, string>>;
}

type Unary<Req, Res> = (request: Req, options?: CallOptions) => Promise<Res>;

/** The command service's API as promises; errors are grpc-js ServiceErrors (code, details, metadata). */
export interface CommandServiceClient {
  createConversation: Unary<api.CreateConversationRequest, api.CreateConversationResponse>;
  joinConversation: Unary<api.JoinConversationRequest, api.JoinConversationResponse>;
  leaveConversation: Unary<api.LeaveConversationRequest, api.LeaveConversationResponse>;
  sendMessage: Unary<api.SendMessageRequest, api.SendMessageResponse>;
  markRead: Unary<api.MarkReadRequest, api.MarkReadResponse>;
  close(): void;
}

export type CommandServiceError = ServiceError;

// The same loader options as the server side (apps/command-service/src/app.ts).
export const PROTO_LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true } as const;

export function createCommandServiceClient(url: string): CommandServiceClient {
  const definition = loadSync(join(protoRoot(), COMMAND_SERVICE_PROTO), { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pkg = loadPackageDefinition(definition) as any;
  const client = new pkg.parley.commands.v1.CommandService(url, credentials.createInsecure(), { 'grpc.enable_channelz': 0 });
  const unary =
    <Req, Res>(method: string): Unary<Req, Res> =>
    (request, { deadlineMs = 10_000, metadata = {} } = {}) => {
      const sent = new Metadata();
      for (const key in metadata) sent.set(key, metadata[key]);
      return new Promise<Res>((resolve, reject) =>
        client[method](request, sent, { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res: Res) =>
          err ? reject(err) : resolve(res),
        ),
      );
    };
  return {
    createConversation: unary('createConversation'),
    joinConversation: unary('joinConversation'),
    leaveConversation: unary('leaveConversation'),
    sendMessage: unary('sendMessage'),
    markRead: unary('markRead'),
    close: () => client.close(),
  };
}
