import 'reflect-metadata';
import { logLevels } from '@parley/config';
import { createGraphqlApi, loadApiSettings } from './app';

async function main(): Promise<void> {
  const portArg = process.argv.indexOf('--port');
  const env = portArg > 0 ? { ...process.env, API_PORT: process.argv[portArg + 1] } : process.env;
  const settings = loadApiSettings(env);
  await createGraphqlApi(settings, logLevels(env));
  console.log(`[graphql-api] http://${settings.api.host}:${settings.api.port}/graphql (HTTP and graphql-ws)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
