import 'reflect-metadata';
import { CassandraConfig } from '@parley/cassandra';
import { loadConfig, logLevels } from '@parley/config';
import { RedisConfig } from '@parley/redis';
import { createProjector } from './app';
import { ProjectorConfig } from './projector.config';

async function main(): Promise<void> {
  const projector = loadConfig(ProjectorConfig);
  await createProjector({ projector, cassandra: loadConfig(CassandraConfig), redis: loadConfig(RedisConfig) }, logLevels());
  console.log(`[projector] running; status on http://${projector.httpHost}:${projector.httpPort}/projections`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
