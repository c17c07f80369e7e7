export { events, Timestamp } from './events';
export * as commands from './generated/parley/commands/v1/command_service';
export { protoRoot, COMMAND_SERVICE_PROTO, COMMAND_SERVICE_PACKAGE } from './proto-root';
export {
  createCommandServiceClient,
  createStreamedCommandServiceClient,
  PROTO_LOADER_OPTIONS,
  type CommandServiceClient,
  type CallOptions,
  type CommandServiceError,
  type CommandMethod,
  type WireCommandFailure,
  type WireCommandsRequest,
  type WireCommandsResponse,
  type WireOutcome,
} from './command-service.client';
