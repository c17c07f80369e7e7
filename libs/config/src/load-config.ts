import { Expose, plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ENV_VARS, envDefault } from './env-vars';

export class ConfigError extends Error {}

type Constructor<T> = new () => T;

const envNames = new WeakMap<object, Map<string, string>>();

/** Reads the property from the environment variable `name` (which must be documented in ENV_VARS). */
export function Env(name: string): PropertyDecorator {
  envDefault(name); // fails at import time for an undocumented variable
  return (target, property) => {
    const names = envNames.get(target.constructor) ?? new Map<string, string>();
    names.set(String(property), name);
    envNames.set(target.constructor, names);
    Expose({ name })(target, property);
  };
}

/**
 * Builds a typed config from environment variables (documented defaults filled in) and
 * validates it at start-up: a bad value stops the process with a message naming the variable.
 */
export function loadConfig<T extends object>(ConfigClass: Constructor<T>, env: NodeJS.ProcessEnv = process.env): T {
  const plain: Record<string, string> = {};
  for (const { name, default: fallback } of ENV_VARS) plain[name] = env[name] ?? fallback;
  const config = plainToInstance(ConfigClass, plain, { excludeExtraneousValues: true });
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const names = envNames.get(ConfigClass);
    const problems = errors.map((e) => {
      const name = names?.get(e.property) ?? e.property;
      return `${name}=${JSON.stringify(plain[name])}: ${Object.values(e.constraints ?? {}).join(', ')}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return config;
}
