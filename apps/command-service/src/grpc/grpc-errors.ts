import { BadUserInputError, DomainError, type DomainErrorKind } from '@parley/domain';
import type { WireCommandFailure } from '@parley/proto';
import { Metadata, status } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';

const STATUS_OF_KIND: Record<DomainErrorKind, status> = {
  BAD_USER_INPUT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  CONFLICT: status.ALREADY_EXISTS,
  FORBIDDEN: status.PERMISSION_DENIED,
};

/** Trailers carrying what the edge needs to build its own error: the stable code and the field. */
export const ERROR_CODE_METADATA = 'parley-code';
export const ERROR_FIELD_METADATA = 'parley-field';

export class UnavailableError extends Error {
  readonly retriable = true;
}

function rpcError(code: status, message: string, domainCode: string, field?: string): RpcException {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA, domainCode);
  if (field) metadata.set(ERROR_FIELD_METADATA, field);
  // grpc-js reads code, details and metadata from the error Nest hands it.
  return new RpcException({ code, message, details: message, metadata });
}

export function invalidArgument(message: string, field?: string): RpcException {
  return rpcError(status.INVALID_ARGUMENT, message, 'COMMAND.INVALID_REQUEST', field);
}

/** The failure a unary call would end with, as the plain fields a stream's outcome carries. */
export function failureOf(err: unknown): WireCommandFailure {
  const { code, details, metadata } = toRpcException(err).getError() as { code: status; details: string; metadata: Metadata };
  const field = metadata.get(ERROR_FIELD_METADATA)[0];
  return { code, message: details, reason: String(metadata.get(ERROR_CODE_METADATA)[0] ?? ''), ...(field ? { field: String(field) } : {}) };
}

/** Maps any failure to a gRPC status: domain rejections by kind, infrastructure faults as UNAVAILABLE. */
export function toRpcException(err: unknown): RpcException {
  if (err instanceof RpcException) return err;
  if (err instanceof DomainError) {
    return rpcError(STATUS_OF_KIND[err.kind], err.message, err.code, err instanceof BadUserInputError ? err.field : undefined);
  }
  const retriable = err instanceof UnavailableError || (err as { retriable?: boolean })?.retriable === true;
  const message = err instanceof Error ? err.message : String(err);
  return retriable
    ? rpcError(status.UNAVAILABLE, `The event log is unavailable, retry: ${message}`, 'COMMAND.UNAVAILABLE')
    : rpcError(status.INTERNAL, 'Internal error', 'COMMAND.INTERNAL');
}
