import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, parleyVersion } from './main';

describe('parley --version', () => {
  it("prints the version of Parley's package.json", async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string };
    expect(parleyVersion()).toBe(version);
    let printed = '';
    const program = buildProgram().configureOutput({ writeOut: (text) => (printed += text) });
    await expect(program.parseAsync(['node', 'parley', '--version'])).rejects.toMatchObject({ code: 'commander.version', exitCode: 0 });
    expect(printed).toBe(`${version}\n`);
  });
});
