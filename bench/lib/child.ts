import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RESULT_PREFIX } from './scenario';

export const BENCH_DIST = join(__dirname, '..');

export interface ChildOptions {
  readonly timeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Runs a scenario (dist/bench/scenarios/<name>.js) as its own process and returns its result
 * line. Past the time limit it gets SIGTERM (it cleans up), then SIGKILL.
 */
export function runChild<O>(name: string, input: unknown, { timeoutMs, env }: ChildOptions): Promise<O> {
  const child = spawn(process.execPath, [join(BENCH_DIST, 'scenarios', `${name}.js`), JSON.stringify(input)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let result: O | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length)) as O;
    else process.stderr.write(`[${name}] ${line}\n`);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`${name} took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`));
      else if (code !== 0 || result === undefined) reject(new Error(`${name} failed (exit ${code ?? signal})`));
      else resolve(result);
    });
  });
}
