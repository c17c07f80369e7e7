import type { Config } from 'jest';

/**
 * Three projects, chosen by file name (the test kind is in the name):
 *   *.unit.spec.ts  no services, in-memory adapters only
 *   *.int.spec.ts   real Kafka, Cassandra and Redis
 *   *.e2e.spec.ts   the whole system through its public edges
 * `npm test` (scripts/test.mjs) brings the infrastructure up first when needed.
 */
const swc: [string, Record<string, unknown>] = [
  '@swc/jest',
  {
    swcrc: false,
    module: { type: 'commonjs' },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
  },
];

const moduleNameMapper = {
  '^@parley/event-log/testing$': '<rootDir>/libs/event-log/src/testing',
  '^@parley/proto/events$': '<rootDir>/libs/proto/src/events',
  '^@parley/(domain|event-log|cassandra|redis|config|testing|proto|projections)$': '<rootDir>/libs/$1/src',
};

const project = (kind: 'unit' | 'int' | 'e2e'): Config => ({
  displayName: kind,
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/{apps,libs,test}/**/*.${kind}.spec.ts`],
  // Most of node_modules is CommonJS; the few ESM-only packages (pulled in by Fastify) are transpiled too.
  transform: { '^.+\\.ts$': swc, '/node_modules/content-disposition/.+\\.js$': swc },
  transformIgnorePatterns: ['^(?!.*/node_modules/content-disposition/).*/node_modules/'],
  moduleNameMapper,
  slowTestThreshold: kind === 'unit' ? 1 : 10,
});

const config: Config = {
  // Per-test timeouts cannot be set per project in jest 29; slow waits pass their own deadline.
  testTimeout: 60_000,
  // With two cores jest runs every file in its own process (in band); one client a failing broker call
  // left reconnecting (seen once in CI: a kafkajs group member retrying "coordinator not
  // available") kept that process alive after the run for the whole CI budget. Exit when done.
  forceExit: true,
  projects: [project('unit'), project('int'), project('e2e')],
};

export default config;
