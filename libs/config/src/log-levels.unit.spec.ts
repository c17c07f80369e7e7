import { ConfigError } from './load-config';
import { logLevels } from './log-levels';

describe('logLevels (LOG_LEVEL)', () => {
  it.each([
    ['error', ['fatal', 'error']],
    ['warn', ['fatal', 'error', 'warn']],
    ['info', ['fatal', 'error', 'warn', 'log']],
    ['debug', ['fatal', 'error', 'warn', 'log', 'debug', 'verbose']],
  ])('prints %s and everything more severe', (name, levels) => {
    expect(logLevels({ LOG_LEVEL: name })).toEqual(levels);
  });

  it('defaults to info', () => {
    expect(logLevels({})).toEqual(['fatal', 'error', 'warn', 'log']);
  });

  it('refuses another value, naming the variable and the choices', () => {
    expect(() => logLevels({ LOG_LEVEL: 'loud' })).toThrow(new ConfigError('Invalid configuration:\n  LOG_LEVEL="loud": must be one of error, warn, info, debug'));
  });
});
