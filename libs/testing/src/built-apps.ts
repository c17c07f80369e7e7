import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { GiveUp, waitFor } from './wait-for';

/** The repository (this file is libs/testing/src/built-apps.ts). */
export const REPO_ROOT = join(__dirname, '../../..');

/** `npm run build`: the apps as `npm start` runs them, for tests that run them as processes. */
export function buildApps(): void {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
}

/** One built app (dist/apps/<app>/src/main.js) as its own process, so that it can really be killed; resolves once `readyUrl` answers 200. */
export async function startBuiltApp(app: string, env: NodeJS.ProcessEnv, readyUrl: string, timeoutMs = 60_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/apps', app, 'src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitFor(`${app} to be ready`, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new GiveUp(`${app} exited with ${child.exitCode ?? child.signalCode}`);
      return (await fetch(readyUrl).catch(() => undefined))?.ok;
    }, { timeoutMs, intervalMs: 200 });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}
