export { ENV_VARS, envDefault, type EnvVarDoc } from './env-vars';
export { loadConfig, ConfigError, Env } from './load-config';
export { logLevels, type AppLogLevel } from './log-levels';
