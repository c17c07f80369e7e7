import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './system';

const PACKAGES = ['kafkajs', 'cassandra-driver', 'ioredis', 'graphql', 'graphql-ws', 'ws', '@nestjs/core', 'mercurius'];

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The version of the artifact the infra pom fetches (what `scripts/infra.mjs` runs). */
function pomVersion(pom: string, artifactId: string): string {
  const xml = readFileSync(join(ROOT, 'infra', pom, 'pom.xml'), 'utf8');
  return new RegExp(`<artifactId>${artifactId}</artifactId>\\s*<version>([^<]+)</version>`).exec(xml)?.[1] ?? 'unknown';
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly loadAverageAtStart: readonly number[];
  readonly packages: Record<string, string>;
  readonly servers: Record<string, string>;
}

export function machineInfo(redisVersion: string): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    loadAverageAtStart: loadavg(),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    servers: { kafka: pomVersion('kafka', 'kafka_2.13'), cassandra: pomVersion('cassandra', 'cassandra-all'), redis: redisVersion },
  };
}
