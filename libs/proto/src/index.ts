export * as events from './generated/parley/events/v1/events';
export * as commands from './generated/parley/commands/v1/command_service';
export { Timestamp } from './generated/google/protobuf/timestamp';
export { protoRoot, COMMAND_SERVICE_PROTO, COMMAND_SERVICE_PACKAGE } from './proto-root';
export {
  createCommandServiceClient,
  PROTO_LOADER_OPTIONS,
  type CommandServiceClient,
  type CallOptions,
  type CommandServiceError,
} from './command-service.client';
