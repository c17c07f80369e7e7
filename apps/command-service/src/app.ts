import { COMMAND_SERVICE_PACKAGE, COMMAND_SERVICE_PROTO, PROTO_LOADER_OPTIONS, protoRoot } from '@parley/proto';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { join } from 'node:path';
import { CommandServiceModule } from './app.module';
import type { CommandServiceConfig } from './command-service.config';

/** The command service: gRPC for commands, HTTP for health. Used by main.ts and by tests. */
export async function createCommandService(
  config: CommandServiceConfig,
  logger: LogLevel[] = ['error', 'warn', 'log'],
): Promise<INestApplication> {
  const app = await NestFactory.create(CommandServiceModule.forRoot(config), { logger });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.GRPC,
      options: {
        package: COMMAND_SERVICE_PACKAGE,
        protoPath: join(protoRoot(), COMMAND_SERVICE_PROTO),
        url: config.grpcUrl,
        loader: { ...PROTO_LOADER_OPTIONS, includeDirs: [protoRoot()] },
        // channelz bookkeeping per call showed in profiles; nothing here reads it.
        channelOptions: { 'grpc.enable_channelz': 0 },
      },
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(config.httpPort, config.httpHost);
  return app;
}
