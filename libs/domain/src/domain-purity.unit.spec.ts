import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The domain is pure: it may import only its own files and node:crypto (for derived ids),
 * and it neither reads a clock nor makes up ids. Time and ids come in with each command.
 */

const sourceRoot = __dirname;

function productionSources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return productionSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const sources = productionSources(sourceRoot).map((path) => ({
  file: relative(sourceRoot, path),
  text: readFileSync(path, 'utf8'),
}));

const MODULE_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function importsOf(text: string): string[] {
  return [...text.matchAll(MODULE_SPECIFIER)].map((match) => match[1]);
}

describe('domain purity', () => {
  it('finds the sources it checks', () => {
    expect(sources.map((source) => source.file)).toEqual(
      expect.arrayContaining(['index.ts', 'ids.ts', 'conversation.decider.ts', 'testing/decider-spec.ts']),
    );
  });

  it('reads the imports of a file', () => {
    expect(importsOf("import { a } from './a';\nimport type { B } from \"@nestjs/common\";\nrequire('kafkajs')")).toStrictEqual([
      './a',
      '@nestjs/common',
      'kafkajs',
    ]);
  });

  it.each(sources)('$file imports only domain files and node:crypto', ({ text }) => {
    const foreign = importsOf(text).filter((specifier) => !specifier.startsWith('./') && !specifier.startsWith('../'));
    expect(foreign.filter((specifier) => specifier !== 'node:crypto')).toStrictEqual([]);
  });

  it.each(sources)('$file reads no clock, randomness or environment', ({ text }) => {
    expect(text).not.toMatch(/Date\.now|new Date\b|Math\.random|randomUUID|randomBytes|getRandomValues|process\.env|performance\.now/);
  });
});
