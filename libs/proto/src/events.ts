// The event envelope alone (`@parley/proto/events`), for what reads or writes the log: without
// the command service's gRPC client and Nest/rxjs stack, which cost the CLI ~0.3 s to load.
export * as events from './generated/parley/events/v1/events';
export { Timestamp } from './generated/google/protobuf/timestamp';
