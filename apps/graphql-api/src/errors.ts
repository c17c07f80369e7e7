import { Logger } from '@nestjs/common';
import type { CommandServiceError } from '@parley/proto';
import { GraphQLError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { apiMetrics } from './metrics/api-metrics';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export const apiError = (code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, ...extensions } });

export const badInput = (field: string, message: string) => apiError('BAD_USER_INPUT', message, { field });

// gRPC status -> contract code (see apps/command-service/src/grpc/grpc-errors.ts for the other side).
const BY_GRPC_STATUS: Record<number, ErrorCode> = {
  3: 'BAD_USER_INPUT',
  5: 'NOT_FOUND',
  6: 'CONFLICT',
  7: 'FORBIDDEN',
  14: 'UNAVAILABLE',
  4: 'UNAVAILABLE',
};

const logger = new Logger('graphql');

/**
 * An internal failure as the client sees it: `INTERNAL` and a correlation id, never the cause's
 * message (a driver's, a stack); the cause is logged under that id, so an operator finds it.
 */
export function internalError(cause: unknown, where: string, log: (message: string) => void = (m) => logger.error(m)): GraphQLError {
  const correlationId = randomUUID();
  log(`[${correlationId}] internal error in ${where}: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
  return apiError('INTERNAL', `Internal error (correlation id ${correlationId})`, { correlationId });
}

/**
 * What a client sees of an error, on both transports: a contract error as it is; one of
 * GraphQL's own (parse, validation, variables) as the client's input, BAD_USER_INPUT with its
 * message; anything else (a resolver's unexpected failure) as `internalError`.
 */
export function publicError(error: GraphQLError, log?: (message: string) => void): GraphQLError {
  const { nodes, path } = error;
  let shown = error;
  if (!error.extensions?.code && error.originalError && !(error.originalError instanceof GraphQLError)) {
    const { message, extensions } = internalError(error.originalError, path?.join('.') ?? 'a request', log);
    shown = new GraphQLError(message, { nodes, path, extensions });
  } else if (!error.extensions?.code) {
    shown = new GraphQLError(error.message, { nodes, path, extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } });
  }
  apiMetrics.errors.inc({ code: String(shown.extensions.code) });
  return shown;
}

/** Turns a command-service failure into the contract's error, keeping its message and field. */
export function fromCommandError(err: unknown): GraphQLError {
  const grpc = err as Partial<CommandServiceError>;
  if (typeof grpc?.code !== 'number') return internalError(err, 'a command');
  const code = BY_GRPC_STATUS[grpc.code] ?? 'INTERNAL';
  const field = grpc.metadata?.get('parley-field')[0];
  const domainCode = grpc.metadata?.get('parley-code')[0];
  const message = code === 'INTERNAL' ? 'Internal error' : code === 'UNAVAILABLE' ? `Service unavailable, retry: ${grpc.details}` : String(grpc.details);
  return apiError(code, message, { ...(field ? { field: String(field) } : {}), ...(domainCode ? { reason: String(domainCode) } : {}) });
}
