import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARS } from '@parley/config';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; environment?: Record<string, unknown>; command?: string[] }>;
};
const APPS = ['command-service', 'projector', 'graphql-api'];
const documented = new Set(ENV_VARS.map((v) => v.name));

describe('docker-compose.yml', () => {
  it('runs Kafka 3.9, Cassandra 5.0, Redis 7 and every app', () => {
    const { services } = compose;
    expect(services.kafka.image).toMatch(/^apache\/kafka:3\.9\./);
    expect(services.cassandra.image).toMatch(/^cassandra:5\.0/);
    expect(services.redis.image).toMatch(/^redis:7/);
    for (const app of APPS) expect(services[app]).toBeDefined();
  });

  it.each(APPS)('gives %s only documented variables, and every connection setting', (app) => {
    const env = Object.keys(compose.services[app].environment ?? {});
    expect(env.filter((name) => !documented.has(name))).toEqual([]);
    expect(env).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'CASSANDRA_CONTACT_POINTS', 'CASSANDRA_LOCAL_DC', 'REDIS_URL']));
  });

  it.each(APPS)('starts %s from its built entry point', (app) => {
    expect(compose.services[app].command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
  });
});

describe('README configuration table', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it.each(ENV_VARS.map((v) => [v.name, v.default]))('documents %s with its default', (name, fallback) => {
    expect(readme).toContain(`| \`${name}\` | \`${fallback}\` |`);
  });
});
