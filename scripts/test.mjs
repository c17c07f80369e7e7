#!/usr/bin/env node
// `npm test`: brings the infrastructure up if it is not running, runs every jest project
// (unit, int, e2e) with any extra arguments, and leaves the infrastructure as it found it.
import { spawnSync } from 'node:child_process';
import { connectionEnv, down, status, up } from './infra.mjs';
import { ensureDependencies } from './dependencies.mjs';

ensureDependencies();

const wasUp = new Map((await status()).map((s) => [s.name, s.up]));
const startedHere = [...wasUp].filter(([, isUp]) => !isUp).map(([name]) => name);

let exitCode = 1;
try {
  if (startedHere.length > 0) await up();
  const env = { ...process.env, ...(await connectionEnv()) };
  const jest = spawnSync(process.execPath, ['node_modules/jest/bin/jest.js', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env,
    // A backstop far above a whole run (~4 min here): a hung run fails instead of using CI's budget.
    timeout: 30 * 60_000,
    killSignal: 'SIGKILL',
  });
  if (jest.error) process.stderr.write(`[test] jest: ${jest.error.message}\n`);
  exitCode = jest.status ?? 1;
} catch (err) {
  process.stderr.write(`[test] ${err.message}\n`);
} finally {
  if (startedHere.length > 0) await down(startedHere);
}
process.exit(exitCode);
