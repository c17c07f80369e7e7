import { createCommandServiceClient, type CommandMethod, type CommandServiceClient } from '@parley/proto';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { CommandServiceConfig } from '../command-service.config';

/** Request metadata marking a command forwarded by another instance: it is never forwarded again. */
export const FORWARDED_METADATA = 'parley-forwarded';

/** Sends a command to the instance that owns its partition (one persistent channel per owner). */
@Injectable()
export class OwnerForwarder implements OnApplicationShutdown {
  private readonly clients = new Map<string, CommandServiceClient>();

  constructor(private readonly config: CommandServiceConfig) {}

  async forward<Req, Res>(owner: string, method: CommandMethod, request: Req): Promise<Res> {
    let client = this.clients.get(owner);
    if (!client) this.clients.set(owner, (client = createCommandServiceClient(owner)));
    const call = client[method] as unknown as (req: Req, options: object) => Promise<Res>;
    try {
      return await call(request, { deadlineMs: this.config.commandTimeoutMs, metadata: { [FORWARDED_METADATA]: '1' } });
    } catch (err) {
      // The owner's answer goes back as it is: its code, message and trailers.
      const { code, details, metadata } = err as ServiceError;
      // UNAVAILABLE: nothing was decided (no connection, or the partition is moving); safe to route again.
      const unreachable = code === status.UNAVAILABLE;
      throw Object.assign(new RpcException({ code, message: details, details, metadata: metadata ?? new Metadata() }), { ownerUnreachable: unreachable });
    }
  }

  onApplicationShutdown(): void {
    for (const client of this.clients.values()) client.close();
  }
}
