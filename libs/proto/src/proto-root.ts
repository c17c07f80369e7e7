import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository's proto/ folder (for runtime loaders such as Nest's gRPC transport). */
export function protoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', 'buf.yaml'))) return join(dir, 'proto');
  }
  throw new Error(`proto/ not found above ${__dirname}`);
}

export const COMMAND_SERVICE_PROTO = 'parley/commands/v1/command_service.proto';
export const COMMAND_SERVICE_PACKAGE = 'parley.commands.v1';
