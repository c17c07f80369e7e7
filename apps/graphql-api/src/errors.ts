import type { CommandServiceError } from '@parley/proto';
import { GraphQLError } from 'graphql';

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

/** Turns a command-service failure into the contract's error, keeping its message and field. */
export function fromCommandError(err: unknown): GraphQLError {
  const grpc = err as Partial<CommandServiceError>;
  if (typeof grpc?.code !== 'number') return apiError('INTERNAL', 'Internal error');
  const code = BY_GRPC_STATUS[grpc.code] ?? 'INTERNAL';
  const field = grpc.metadata?.get('parley-field')[0];
  const domainCode = grpc.metadata?.get('parley-code')[0];
  const message = code === 'INTERNAL' ? 'Internal error' : code === 'UNAVAILABLE' ? `Service unavailable, retry: ${grpc.details}` : String(grpc.details);
  return apiError(code, message, { ...(field ? { field: String(field) } : {}), ...(domainCode ? { reason: String(domainCode) } : {}) });
}
