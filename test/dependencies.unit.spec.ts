import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** scripts/dependencies.mjs is ESM and built-ins only (it runs before npm ci): asked through node itself. */
const installed = (root: string): boolean =>
  JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(__dirname, '../scripts/dependencies.mjs'))}); console.log(JSON.stringify(m.dependenciesInstalled(${JSON.stringify(root)})))`], {
      encoding: 'utf8',
    }),
  ) as boolean;

describe('npm start and npm test install the dependencies when they must (scripts/dependencies.mjs)', () => {
  const clone = () => {
    const root = mkdtempSync(join(tmpdir(), 'parley-deps-'));
    writeFileSync(join(root, 'package-lock.json'), '{}');
    return root;
  };
  const installAt = (root: string, secondsFromLock: number) => {
    mkdirSync(join(root, 'node_modules'), { recursive: true });
    const hidden = join(root, 'node_modules', '.package-lock.json');
    writeFileSync(hidden, '{}');
    const lock = new Date('2026-12-01T00:00:00Z');
    utimesSync(join(root, 'package-lock.json'), lock, lock);
    const at = new Date(lock.getTime() + secondsFromLock * 1000);
    utimesSync(hidden, at, at);
  };

  it('installs in a fresh clone (no node_modules)', () => {
    expect(installed(clone())).toBe(false);
  });

  it('does not install again when node_modules is as new as the lockfile (or a moment older, as npm install writes them)', () => {
    const root = clone();
    installAt(root, 5);
    expect(installed(root)).toBe(true);
    installAt(root, -3);
    expect(installed(root)).toBe(true);
  });

  it('installs again when the lockfile changed since (a pull)', () => {
    const root = clone();
    installAt(root, -3600);
    expect(installed(root)).toBe(false);
  });
});
