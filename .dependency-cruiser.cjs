/** Layer rules, checked in CI (`npm run lint`). See docs/adr/0001-monorepo-and-layers.md. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'libs/domain is pure TypeScript: no framework, driver or GraphQL imports.',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: 'node_modules/(@nestjs|kafkajs|cassandra-driver|ioredis|graphql|graphql-ws|@grpc|ws)(/|$)' },
    },
    {
      name: 'domain-imports-no-other-lib',
      comment: 'The domain depends on nothing else in the repo.',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: '^(libs/(?!domain/)|apps/)' },
    },
    {
      name: 'kafkajs-only-in-event-log',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '^libs/event-log/' },
      to: { path: 'node_modules/kafkajs/' },
    },
    {
      name: 'cassandra-driver-only-in-cassandra-lib',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '^libs/cassandra/' },
      to: { path: 'node_modules/cassandra-driver/' },
    },
    {
      name: 'ioredis-only-in-redis-lib',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '^libs/redis/' },
      to: { path: 'node_modules/ioredis/' },
    },
    {
      name: 'libs-do-not-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'testing-lib-only-in-tests',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: ['\\.spec\\.ts$', '^libs/testing/', '/testing/', '^apps/[^/]+/test/'] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      comment: 'Type-only cycles vanish at run time and are allowed.',
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^dist/|^\\.infra/)' },
  },
};
