// Installs the project's dependencies (npm ci) when node_modules is missing or older than the
// lockfile, so that `npm start` and `npm test` work straight after `git clone`.
// Only Node built-ins are used: this runs before anything is installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

/** Whether node_modules holds what package-lock.json says (npm writes node_modules/.package-lock.json last). */
export function dependenciesInstalled(root = ROOT) {
  const installed = mtime(path.join(root, 'node_modules', '.package-lock.json'));
  const locked = mtime(path.join(root, 'package-lock.json'));
  // npm may write the lockfile a moment after node_modules's copy of it (npm install): 10 s of slack.
  return installed !== undefined && locked !== undefined && installed + 10_000 >= locked;
}

export function ensureDependencies(root = ROOT) {
  if (dependenciesInstalled(root)) return;
  process.stdout.write('[deps] node_modules is missing or older than package-lock.json: npm ci\n');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (npm.status !== 0) {
    process.stderr.write(`[deps] npm ci failed (exit ${npm.status ?? npm.signal})\n`);
    process.exit(npm.status ?? 1);
  }
}
