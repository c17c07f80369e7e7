import { credentials, loadPackageDefinition, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
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
  membership: Unary<api.MembershipRequest, api.MembershipResponse>;
  /** Whether the command service answers a connection within `timeoutMs` (readiness). */
  reachable(timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** The channel connects (or is connected) within the time: grpc-js's waitForReady. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const reachable = (client: any) => (timeoutMs: number) =>
  new Promise<boolean>((resolve) => client.waitForReady(Date.now() + timeoutMs, (err: Error | undefined) => resolve(!err)));

export type CommandServiceError = ServiceError;

// The same loader options as the server side (apps/command-service/src/app.ts).
export const PROTO_LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** A command's method name, as on CommandServiceClient and as the stream's oneof members. */
export type CommandMethod = Exclude<keyof CommandServiceClient, 'close' | 'reachable'>;
type Method = CommandMethod;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function grpcClient(url: string): any {
  const definition = loadSync(join(protoRoot(), COMMAND_SERVICE_PROTO), { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pkg = loadPackageDefinition(definition) as any;
  return new pkg.parley.commands.v1.CommandService(url, credentials.createInsecure(), { 'grpc.enable_channelz': 0 });
}

/** One unary call per command (what one command-service instance uses to forward to another). */
export function createCommandServiceClient(url: string): CommandServiceClient {
  const client = grpcClient(url);
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
    membership: unary('membership'),
    reachable: reachable(client),
    close: () => client.close(),
  };
}

/**
 * The `Commands` stream's messages as @grpc/proto-loader gives and takes them (`oneofs: true`),
 * on both ends: the oneof's member is a field of its own name (`sendMessage: {...}`), and, when
 * decoded, `command` names the one that is set. (The generated types describe the same messages
 * with ts-proto's `$case` unions instead.)
 */
export interface WireEnvelope {
  readonly id: number;
  readonly command?: Method;
  readonly [request: string]: unknown;
}
export interface WireCommandFailure {
  readonly code: number;
  readonly message: string;
  readonly reason: string;
  readonly field?: string;
}
export interface WireOutcome {
  readonly id: number;
  readonly error?: WireCommandFailure;
  readonly [response: string]: unknown;
}
export interface WireCommandsRequest {
  readonly commands?: readonly WireEnvelope[];
}
export interface WireCommandsResponse {
  readonly outcomes: readonly WireOutcome[];
}
type CommandStreamCall = ClientDuplexStream<WireCommandsRequest, WireCommandsResponse>;

interface Awaiting {
  readonly method: Method;
  readonly deadline: number;
  readonly resolve: (response: unknown) => void;
  readonly reject: (err: ServiceError) => void;
  /** The stream it was written to (none yet while it waits for the next frame). */
  call?: CommandStreamCall;
}

function commandError(code: number, message: string, reason?: string, field?: string): ServiceError {
  const metadata = new Metadata();
  if (reason) metadata.set('parley-code', reason);
  if (field) metadata.set('parley-field', field);
  return Object.assign(new Error(`${code} ${status[code]}: ${message}`), { code, details: message, metadata });
}

const SWEEP_MS = 100;

/**
 * The command service over one long-lived `Commands` stream (opened on the first command,
 * opened again after it breaks): the commands issued in one turn of the event loop go in one
 * frame, and their outcomes come back by id. Failures are the ServiceErrors a unary call would
 * give (code, details, the parley-code and parley-field metadata); a command past its deadline
 * fails with DEADLINE_EXCEEDED, and the commands written to a stream that breaks with
 * UNAVAILABLE (their outcome is unknown: retry them).
 */
export function createStreamedCommandServiceClient(url: string): CommandServiceClient {
  const client = grpcClient(url);
  const awaiting = new Map<number, Awaiting>();
  let queued: WireEnvelope[] = [];
  let call: CommandStreamCall | undefined;
  let lastId = 0;
  let sweeper: NodeJS.Timeout | undefined;

  const settle = (id: number, outcome: (entry: Awaiting) => void) => {
    const entry = awaiting.get(id);
    if (!entry) return;
    awaiting.delete(id);
    outcome(entry);
    if (awaiting.size === 0 && sweeper) sweeper = (clearInterval(sweeper), undefined);
  };
  const broken = (stream: CommandStreamCall, message: string) => {
    if (call === stream) call = undefined;
    for (const [id, entry] of awaiting) {
      if (entry.call === stream) settle(id, (e) => e.reject(commandError(status.UNAVAILABLE, `the command stream broke: ${message}`)));
    }
  };
  const open = (): CommandStreamCall => {
    const stream: CommandStreamCall = client.commands();
    stream.on('data', ({ outcomes }: WireCommandsResponse) => {
      for (const outcome of outcomes) {
        settle(outcome.id, (entry) => {
          const { error } = outcome;
          if (error) entry.reject(commandError(error.code, error.message, error.reason, error.field));
          else entry.resolve(outcome[entry.method]);
        });
      }
    });
    stream.on('error', (err: ServiceError) => broken(stream, err.details ?? err.message));
    stream.on('end', () => broken(stream, 'the command service ended it'));
    return stream;
  };
  const flush = () => {
    const commands = queued;
    queued = [];
    call ??= open();
    for (const { id } of commands) {
      const entry = awaiting.get(id);
      if (entry) entry.call = call;
    }
    call.write({ commands });
  };
  const sweep = () => {
    const now = Date.now();
    for (const [id, entry] of awaiting) {
      if (entry.deadline <= now) settle(id, (e) => e.reject(commandError(status.DEADLINE_EXCEEDED, 'the command service did not answer in time')));
    }
  };
  const send =
    <Req, Res>(method: Method): Unary<Req, Res> =>
    (request, { deadlineMs = 10_000 } = {}) =>
      new Promise<Res>((resolve, reject) => {
        do {
          lastId = (lastId + 1) >>> 0;
        } while (awaiting.has(lastId));
        awaiting.set(lastId, { method, deadline: Date.now() + deadlineMs, resolve: resolve as (r: unknown) => void, reject });
        sweeper ??= setInterval(sweep, SWEEP_MS).unref();
        if (queued.push({ id: lastId, [method]: request }) === 1) setImmediate(flush);
      });
  return {
    createConversation: send('createConversation'),
    joinConversation: send('joinConversation'),
    leaveConversation: send('leaveConversation'),
    sendMessage: send('sendMessage'),
    markRead: send('markRead'),
    membership: send('membership'),
    reachable: reachable(client),
    close: () => {
      call?.end();
      client.close();
    },
  };
}
