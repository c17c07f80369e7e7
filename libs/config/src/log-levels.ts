import { ConfigError } from './load-config';

/** The levels Nest's logger prints (its LogLevel), most severe first. */
const LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type AppLogLevel = (typeof LEVELS)[number];

/** LOG_LEVEL's values, and the most verbose of Nest's levels each one prints. */
const BY_NAME: Readonly<Record<string, AppLogLevel>> = { error: 'error', warn: 'warn', info: 'log', debug: 'verbose' };

/** The levels an app prints for `LOG_LEVEL` (error, warn, info, debug; default info): that one and every more severe one. */
export function logLevels(env: NodeJS.ProcessEnv = process.env): AppLogLevel[] {
  const name = env.LOG_LEVEL ?? 'info';
  const last = BY_NAME[name];
  if (!last) throw new ConfigError(`Invalid configuration:\n  LOG_LEVEL=${JSON.stringify(name)}: must be one of ${Object.keys(BY_NAME).join(', ')}`);
  return LEVELS.slice(0, LEVELS.indexOf(last) + 1);
}
