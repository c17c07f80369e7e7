import { CassandraConfig, createCassandraClient, dropKeyspace } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { createKafka, KafkaConfig } from '@parley/event-log';
import { createRedis, RedisConfig } from '@parley/redis';
import { freePort, GiveUp, uniqueName, waitFor } from '@parley/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository (this file runs as dist/bench/lib/system.js). */
export const ROOT = resolve(__dirname, '../../..');
export const LOG_DIR = join(tmpdir(), 'parley-bench');

/** What scenario processes need to know about the system under test (serializable). */
export interface SystemInfo {
  readonly env: Record<string, string>;
  readonly topic: string;
  readonly keyspace: string;
  readonly partitions: number;
  readonly secret: string;
  /** host:port of each API instance. */
  readonly apiUrls: readonly string[];
  readonly apiPids: readonly number[];
  /** The inspector port of each API instance (for a full GC and the heap it keeps, bench/lib/inspector). */
  readonly apiInspectPorts: readonly number[];
  /** Every process of the system and of the infrastructure by name, for CPU figures. */
  readonly pids: Record<string, number>;
  /** http://host:port of the projector's status endpoints. */
  readonly projectorUrl: string;
}

export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
}

/** The log file of an app started by startApp. */
export const appLogFile = (label: string, httpPort: number): string => join(LOG_DIR, `${label}-${httpPort}.log`);

/** One built app (dist/apps/<app>/src/main.js) as its own process, waited for on /health/ready (up to `readyTimeoutMs`). */
export async function startApp(app: string, env: NodeJS.ProcessEnv, httpPort: number, label = app, readyTimeoutMs = 90_000): Promise<AppProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = appLogFile(label, httpPort);
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps', app, 'src/main.js')], {
    env,
    stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
  });
  try {
    await waitFor(
      `${label} to be ready (log: ${logFile})`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new GiveUp(`${label} exited with ${child.exitCode ?? child.signalCode}; see ${logFile}`);
        return (await fetch(`http://127.0.0.1:${httpPort}/health/ready`).catch(() => undefined))?.ok;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 200 },
    );
  } catch (err) {
    // Not left running behind the caller's back.
    await stopApps([{ name: label, child }]);
    throw err;
  }
  return { name: label, child };
}

/** SIGTERM, then SIGKILL for whatever has not exited after `graceMs`. */
export async function stopApps(apps: readonly AppProcess[], graceMs = 10_000): Promise<void> {
  await Promise.all(
    apps.map(
      ({ child }) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** The bench's own system on the running infrastructure: its own topic, keyspace and secret; two API instances. */
export async function startSystem(connectionEnv: Record<string, string>, partitions: number): Promise<{ info: SystemInfo; apps: AppProcess[] }> {
  const [grpcPort, commandHttp, projectorHttp, api1, api2, inspect1, inspect2] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const topic = uniqueName('bench');
  const secret = `bench-${uniqueName('secret')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'production', // as npm start and the Dockerfile (graphql-js's development checks cost ~2% of an API's CPU)
    ...(process.env as Record<string, string>),
    ...connectionEnv,
    EVENTS_TOPIC: topic,
    EVENTS_TOPIC_PARTITIONS: String(partitions),
    CASSANDRA_KEYSPACE: topic,
    COMMAND_SERVICE_GRPC_URL: `127.0.0.1:${grpcPort}`,
    COMMAND_SERVICE_HTTP_PORT: String(commandHttp),
    PROJECTOR_HTTP_PORT: String(projectorHttp),
    JWT_SECRET: secret,
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    LOG_LEVEL: 'warn',
  };
  const apps: AppProcess[] = [];
  try {
    apps.push(await startApp('command-service', env, commandHttp));
    apps.push(await startApp('projector', env, projectorHttp));
    const inspectPorts = [inspect1, inspect2];
    const apiEnv = (port: number, i: number) => ({
      ...env,
      API_PORT: String(port),
      NODE_OPTIONS: [env.NODE_OPTIONS, `--inspect=127.0.0.1:${inspectPorts[i]}`].filter(Boolean).join(' '),
    });
    apps.push(...(await Promise.all([api1, api2].map((port, i) => startApp('graphql-api', apiEnv(port, i), port, `graphql-api-${i + 1}`)))));
  } catch (err) {
    await stopApps(apps);
    await dropResources(env, { topics: [topic], keyspaces: [topic] });
    throw err;
  }
  const info: SystemInfo = {
    env,
    topic,
    keyspace: topic,
    partitions,
    secret,
    apiUrls: [`127.0.0.1:${api1}`, `127.0.0.1:${api2}`],
    apiPids: apps.slice(2).map((a) => a.child.pid!),
    apiInspectPorts: [inspect1, inspect2],
    pids: { ...(await infrastructurePids(env)), ...Object.fromEntries(apps.map((a) => [a.name, a.child.pid!])) },
    projectorUrl: `http://127.0.0.1:${projectorHttp}`,
  };
  return { info, apps };
}

/** Kafka and Cassandra as scripts/infra.mjs records them; Redis as it reports itself. */
export async function infrastructurePids(env: NodeJS.ProcessEnv): Promise<Record<string, number>> {
  const pids: Record<string, number> = {};
  for (const service of ['kafka', 'cassandra']) {
    try {
      pids[service] = Number(readFileSync(join(ROOT, env.PARLEY_INFRA_DIR ?? '.infra', `${service}.pid`), 'utf8').trim());
    } catch {
      // not started by scripts/infra.mjs: no CPU figure for it
    }
  }
  const redis = createRedis(loadConfig(RedisConfig, env), 'bench-pid');
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    if (pid) pids.redis = pid;
  } finally {
    await redis.quit();
  }
  return pids;
}

export interface Resources {
  readonly topics?: readonly string[];
  readonly keyspaces?: readonly string[];
}

/** Deletes topics, keyspaces and the Redis keys namespaced by each topic (presence, members). Best effort. */
export async function dropResources(env: NodeJS.ProcessEnv, { topics = [], keyspaces = [] }: Resources): Promise<void> {
  const kafka = createKafka(loadConfig(KafkaConfig, env), 'bench-cleanup');
  const admin = kafka.admin();
  const cassandra = createCassandraClient(loadConfig(CassandraConfig, env));
  const redis = createRedis(loadConfig(RedisConfig, env), 'bench-cleanup');
  try {
    await Promise.allSettled([
      (async () => {
        if (!topics.length) return;
        await admin.connect();
        const existing = new Set(await admin.listTopics());
        const doomed = topics.filter((t) => existing.has(t));
        if (doomed.length) await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
      })(),
      ...keyspaces.map((k) => dropKeyspace(cassandra, k)),
      ...topics.map(async (topic) => {
        for (let cursor = '0'; ; ) {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `parley:${topic}:*`, 'COUNT', 1000);
          if (keys.length) await redis.unlink(...keys);
          cursor = next;
          if (cursor === '0') break;
        }
      }),
    ]);
  } finally {
    await Promise.allSettled([admin.disconnect(), cassandra.shutdown(), redis.quit()]);
  }
}
