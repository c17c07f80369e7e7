import 'reflect-metadata';
import { loadConfig, logLevels } from '@parley/config';
import { createCommandService } from './app';
import { CommandServiceConfig } from './command-service.config';

async function main(): Promise<void> {
  const config = loadConfig(CommandServiceConfig);
  await createCommandService(config, logLevels());
  console.log(`[command-service] gRPC on ${config.grpcUrl}, health on http://${config.httpHost}:${config.httpPort}/health/ready`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
