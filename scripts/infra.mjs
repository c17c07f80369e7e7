#!/usr/bin/env node
// Local infrastructure without Docker: Kafka 3.9 (KRaft) and Cassandra 5.0 fetched from
// Maven Central and run on 127.0.0.1; Redis reused when it answers, else started here.
// Usage: node scripts/infra.mjs up|down|status|env [--json]
// Only Node built-ins are used so that this runs before `npm ci`.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STATE_DIR = path.resolve(process.env.PARLEY_INFRA_DIR ?? path.join(ROOT, '.infra'));
const HOST = '127.0.0.1';
const num = (name, fallback) => Number(process.env[name] ?? fallback);
const PORTS = {
  kafka: num('PARLEY_KAFKA_PORT', 9092),
  kafkaController: num('PARLEY_KAFKA_CONTROLLER_PORT', 9093),
  cassandra: num('PARLEY_CASSANDRA_PORT', 9042),
  cassandraStorage: num('PARLEY_CASSANDRA_STORAGE_PORT', 7000),
  redis: num('PARLEY_REDIS_PORT', 6379),
  ownRedis: num('PARLEY_OWN_REDIS_PORT', 6390),
};
const DEADLINES_MS = { kafka: 120_000, cassandra: 180_000, redis: 15_000 };

class InfraError extends Error {}

// ---------------------------------------------------------------- helpers

const log = (msg) => process.stderr.write(`[infra] ${msg}\n`);
const dir = (...parts) => {
  const p = path.join(STATE_DIR, ...parts);
  fs.mkdirSync(p, { recursive: true });
  return p;
};
const pidFile = (service) => path.join(STATE_DIR, `${service}.pid`);

function readPid(service) {
  try {
    const pid = Number(fs.readFileSync(pidFile(service), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Our process only: alive and its command line mentions our state folder (PIDs get reused). */
function ownProcessAlive(pid) {
  if (!pid) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(STATE_DIR);
  } catch {
    return false;
  }
}

/**
 * Whether a process we just started is still running: not gone, not a zombie. Its command line
 * may read empty for a moment while the shell that set its timer slack execs the JVM (and a
 * zombie's reads empty too, hence the state), so only a non-empty one must name our `.infra/`.
 */
function startedProcessAlive(pid) {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline === '' || cmdline.includes(STATE_DIR);
  } catch {
    return false;
  }
}

function rssMiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return undefined;
  }
}

function portOpen(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function redisPing(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

async function waitFor(what, deadlineMs, check, explainFailure) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new InfraError(`${what} was not ready within ${deadlineMs / 1000} s. ${explainFailure()}`);
}

function tail(file, lines = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function fileContains(file, text) {
  try {
    return fs.readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- prerequisites

function javaVersion(javaBin) {
  const r = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  const m = /version "(\d+)/.exec(r.stderr);
  return m ? Number(m[1]) : undefined;
}

/** Cassandra 5.0 runs on Java 11 or 17 only; Kafka 3.9 is happy with 17 too. */
function findJava17() {
  const candidates = [];
  if (process.env.JAVA17_HOME) candidates.push(path.join(process.env.JAVA17_HOME, 'bin/java'));
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin/java'));
  try {
    for (const d of fs.readdirSync('/usr/lib/jvm').sort()) {
      if (/17/.test(d)) candidates.push(path.join('/usr/lib/jvm', d, 'bin/java'));
    }
  } catch {
    /* no /usr/lib/jvm */
  }
  candidates.push('java');
  for (const c of candidates) if (javaVersion(c) === 17) return c;
  throw new InfraError(
    'Java 17 is missing (Cassandra 5.0 runs on Java 11 or 17 only). ' +
      'Install it with `apt-get install -y openjdk-17-jre-headless`, or point JAVA17_HOME at a JDK 17.',
  );
}

function requireMaven() {
  const r = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new InfraError(
      'Maven is missing (it fetches Kafka and Cassandra from Maven Central). ' +
        'Install it with `apt-get install -y maven`.',
    );
  }
}

/** Copies the runtime classpath of infra/<name>/pom.xml into .infra/<name>/lib once per pom. */
function fetchJars(name) {
  const pom = path.join(ROOT, 'infra', name, 'pom.xml');
  const lib = dir(name, 'lib');
  const marker = path.join(lib, '.fetched');
  const digest = createHash('sha256').update(fs.readFileSync(pom)).digest('hex');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === digest) return lib;
  requireMaven();
  log(`fetching ${name} jars with Maven (cached in ~/.m2 after the first time)...`);
  for (const f of fs.readdirSync(lib)) fs.rmSync(path.join(lib, f), { force: true });
  const r = spawnSync(
    'mvn',
    ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${lib}`],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) {
    throw new InfraError(
      `Maven could not fetch the ${name} jars (${pom}). Maven Central must be reachable ` +
        `(check proxy settings in ~/.m2/settings.xml).\n${(r.stdout + r.stderr).trim().slice(-2000)}`,
    );
  }
  fs.writeFileSync(marker, digest);
  return lib;
}

/**
 * The timer slack of the JVMs' threads (Linux, ns). Cassandra's request and mutation threads
 * (its SEP pool) spin between tasks in timed parks of 10 us to 1 ms; at the default 50 us slack
 * each wakes thousands of times a second, which on 2 cores took half a core at 500 writes/s.
 * A wider slack lets the kernel group those wakeups: measured in docs/adr/0002.
 */
const JVM_TIMER_SLACK_NS = num('PARLEY_JVM_TIMER_SLACK_NS', 500_000);

function startDetached(service, command, args, logFile, { timerSlackNs } = {}) {
  const out = fs.openSync(logFile, 'a');
  if (timerSlackNs && process.platform === 'linux') {
    // Set on the shell, which then becomes the JVM (exec): every thread it starts inherits it.
    args = ['-c', `echo ${Math.floor(timerSlackNs)} > /proc/self/timerslack_ns 2>/dev/null; exec "$@"`, service, command, ...args];
    command = '/bin/sh';
  }
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], cwd: STATE_DIR });
  child.unref();
  fs.writeFileSync(pidFile(service), String(child.pid));
  return child.pid;
}

// ---------------------------------------------------------------- Kafka

function writeKafkaConfig() {
  const base = dir('kafka');
  const dataDir = dir('kafka', 'data');
  const props = path.join(base, 'server.properties');
  fs.writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${HOST}:${PORTS.kafkaController}`,
      `listeners=PLAINTEXT://${HOST}:${PORTS.kafka},CONTROLLER://${HOST}:${PORTS.kafkaController}`,
      `advertised.listeners=PLAINTEXT://${HOST}:${PORTS.kafka}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${dataDir}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=4',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      'delete.topic.enable=true',
      // Idle CPU: no KIP-835 no-op records (a metadata-log append and fsync twice a second).
      'metadata.max.idle.interval.ms=0',
      '',
    ].join('\n'),
  );
  const log4j = path.join(base, 'log4j.properties');
  fs.writeFileSync(
    log4j,
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka=INFO',
      'log4j.logger.org.apache.kafka=INFO',
      'log4j.logger.state.change.logger=WARN',
      'log4j.logger.kafka.log.LogCleaner=INFO',
      '',
    ].join('\n'),
  );
  return { props, log4j, dataDir };
}

async function kafkaUp(java) {
  const logFile = path.join(dir('kafka', 'logs'), 'server.log');
  if (!ownProcessAlive(readPid('kafka'))) {
    const lib = fetchJars('kafka');
    const { props, log4j, dataDir } = writeKafkaConfig();
    const cp = `${lib}/*`;
    if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
      const uuid = spawnSync(java, ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
      const clusterId = uuid.stdout.trim().split('\n').pop();
      const fmt = spawnSync(
        java,
        ['-cp', cp, `-Dlog4j.configuration=file:${log4j}`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, '--ignore-formatted'],
        { encoding: 'utf8' },
      );
      if (fmt.status !== 0) throw new InfraError(`Kafka storage format failed:\n${fmt.stdout}${fmt.stderr}`);
    }
    if (await portOpen(PORTS.kafka)) {
      throw new InfraError(`Port ${PORTS.kafka} is taken by a process that is not ours; set PARLEY_KAFKA_PORT.`);
    }
    fs.writeFileSync(logFile, '');
    const started = Date.now();
    startDetached(
      'kafka',
      java,
      [
        '-Xms256m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-Djava.net.preferIPv4Stack=true',
        `-Dlog4j.configuration=file:${log4j}`,
        `-Dkafka.logs.dir=${path.dirname(logFile)}`,
        '-cp',
        cp,
        'kafka.Kafka',
        props,
      ],
      logFile,
      { timerSlackNs: JVM_TIMER_SLACK_NS },
    );
    await waitFor(
      'Kafka',
      DEADLINES_MS.kafka,
      async () => {
        if (!startedProcessAlive(readPid('kafka'))) throw new InfraError(`Kafka exited during start-up:\n${tail(logFile)}`);
        return fileContains(logFile, 'Kafka Server started') && (await portOpen(PORTS.kafka));
      },
      () => `Last log lines (${logFile}):\n${tail(logFile)}`,
    );
    log(`kafka up on ${HOST}:${PORTS.kafka} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

// ---------------------------------------------------------------- Cassandra

// From apache/cassandra (branch cassandra-5.0) conf/jvm17-server.options.
const CASSANDRA_JVM17 = [
  '-Djdk.attach.allowAttachSelf=true',
  ...[
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.management/com.sun.jmx.remote.security',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'jdk.attach/sun.tools.attach',
    'jdk.compiler/com.sun.tools.javac.file',
  ].map((m) => `--add-exports=${m}=ALL-UNNAMED`),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.lang.reflect',
    'java.base/java.lang',
    'java.base/java.util',
    'java.base/java.nio',
    'jdk.compiler/com.sun.tools.javac',
  ].map((m) => `--add-opens=${m}=ALL-UNNAMED`),
  '-Dio.netty.tryReflectionSetAccessible=true',
];

function writeCassandraConfig() {
  const base = dir('cassandra');
  const yaml = path.join(base, 'cassandra.yaml');
  fs.writeFileSync(
    yaml,
    [
      'cluster_name: parley-local',
      'num_tokens: 1',
      'partitioner: org.apache.cassandra.dht.Murmur3Partitioner',
      'endpoint_snitch: SimpleSnitch',
      'commitlog_sync: periodic',
      'commitlog_sync_period: 10000ms',
      'seed_provider:',
      '  - class_name: org.apache.cassandra.locator.SimpleSeedProvider',
      '    parameters:',
      `      - seeds: "${HOST}:${PORTS.cassandraStorage}"`,
      `listen_address: ${HOST}`,
      `rpc_address: ${HOST}`,
      `storage_port: ${PORTS.cassandraStorage}`,
      `native_transport_port: ${PORTS.cassandra}`,
      'start_native_transport: true',
      'storage_compatibility_mode: NONE',
      'auto_snapshot: false',
      'snapshot_on_duplicate_row_detection: false',
      // The projector commits state rows with their checkpoint in one logged batch.
      'batch_size_warn_threshold: 64KiB',
      'batch_size_fail_threshold: 1024KiB',
      '',
    ].join('\n'),
  );
  const logback = path.join(base, 'logback.xml');
  fs.writeFileSync(
    logback,
    `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT" /></root>
</configuration>
`,
  );
  return { yaml, logback };
}

async function cassandraUp(java) {
  const logFile = path.join(dir('cassandra', 'logs'), 'system.log');
  if (!ownProcessAlive(readPid('cassandra'))) {
    const lib = fetchJars('cassandra');
    const { yaml, logback } = writeCassandraConfig();
    const jamm = fs.readdirSync(lib).find((f) => /^jamm-.*\.jar$/.test(f));
    if (!jamm) throw new InfraError(`jamm jar missing from ${lib}; delete ${lib} and run infra:up again.`);
    if (await portOpen(PORTS.cassandra)) {
      throw new InfraError(`Port ${PORTS.cassandra} is taken by a process that is not ours; set PARLEY_CASSANDRA_PORT.`);
    }
    fs.writeFileSync(logFile, '');
    const started = Date.now();
    startDetached(
      'cassandra',
      java,
      [
        '-Xms1g',
        '-Xmx1g',
        '-XX:+UseG1GC',
        '-Xss256k',
        '-Djava.net.preferIPv4Stack=true',
        // Idle CPU: read the clock when asked instead of refreshing an approximate one every 2 ms
        // (a thread that was ~75% of an idle Cassandra's CPU).
        '-Dcassandra.monotonic_clock.approx=org.apache.cassandra.utils.MonotonicClock$SystemClock',
        `-javaagent:${path.join(lib, jamm)}`,
        ...CASSANDRA_JVM17,
        `-Dcassandra.config=file://${yaml}`,
        `-Dcassandra.storagedir=${dir('cassandra', 'data')}`,
        `-Dcassandra.logdir=${path.dirname(logFile)}`,
        `-Dlogback.configurationFile=${logback}`,
        '-Dcassandra-foreground=yes',
        '-Dcassandra.skip_wait_for_gossip_to_settle=0',
        '-Dcassandra.superuser_setup_delay_ms=0',
        '-cp',
        `${lib}/*`,
        'org.apache.cassandra.service.CassandraDaemon',
      ],
      logFile,
      { timerSlackNs: JVM_TIMER_SLACK_NS },
    );
    await waitFor(
      'Cassandra',
      DEADLINES_MS.cassandra,
      async () => {
        if (!startedProcessAlive(readPid('cassandra'))) {
          throw new InfraError(`Cassandra exited during start-up:\n${tail(logFile)}`);
        }
        return fileContains(logFile, 'Startup complete') && (await portOpen(PORTS.cassandra));
      },
      () => `Last log lines (${logFile}):\n${tail(logFile)}`,
    );
    log(`cassandra up on ${HOST}:${PORTS.cassandra} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

// ---------------------------------------------------------------- Redis

async function redisUp() {
  if (await redisPing(PORTS.redis)) return;
  if (ownProcessAlive(readPid('redis')) && (await redisPing(PORTS.ownRedis))) return;
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new InfraError(
      `No Redis answers on ${HOST}:${PORTS.redis} and redis-server is not installed. ` +
        'Install it with `apt-get install -y redis-server`, or start a Redis there.',
    );
  }
  const logFile = path.join(dir('redis'), 'redis.log');
  startDetached(
    'redis',
    'redis-server',
    ['--bind', HOST, '--port', String(PORTS.ownRedis), '--save', '', '--appendonly', 'no', '--dir', dir('redis')],
    logFile,
  );
  await waitFor('Redis', DEADLINES_MS.redis, () => redisPing(PORTS.ownRedis), () => tail(logFile));
  log(`redis started on ${HOST}:${PORTS.ownRedis} (nothing answered on ${PORTS.redis})`);
}

// ---------------------------------------------------------------- commands

/** The connection settings the apps and tests should use, given what runs now. */
export async function connectionEnv() {
  const ownRedis = ownProcessAlive(readPid('redis'));
  return {
    KAFKA_BROKERS: `${HOST}:${PORTS.kafka}`,
    CASSANDRA_CONTACT_POINTS: `${HOST}:${PORTS.cassandra}`,
    CASSANDRA_LOCAL_DC: 'datacenter1',
    REDIS_URL: `redis://${HOST}:${ownRedis ? PORTS.ownRedis : PORTS.redis}`,
  };
}

export async function status() {
  const service = async (name, port, ready) => {
    const pid = readPid(name);
    const own = ownProcessAlive(pid);
    return { name, up: await ready(port), managed: own, pid: own ? pid : undefined, port, rssMiB: own ? rssMiB(pid) : undefined };
  };
  const kafka = await service('kafka', PORTS.kafka, portOpen);
  const cassandra = await service('cassandra', PORTS.cassandra, portOpen);
  let redis = await service('redis', PORTS.ownRedis, redisPing);
  if (!redis.managed) redis = { ...redis, port: PORTS.redis, up: await redisPing(PORTS.redis) };
  return [kafka, cassandra, redis];
}

export async function up() {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const java = findJava17();
  const started = Date.now();
  // Start both JVMs at once: on 2 cores Cassandra dominates the cold start anyway.
  const results = await Promise.allSettled([kafkaUp(java), cassandraUp(java), redisUp()]);
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (failures.length > 0) throw failures[0];
  log(`all services ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function stopPid(name) {
  const pid = readPid(name);
  if (!ownProcessAlive(pid)) {
    fs.rmSync(pidFile(name), { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 30_000;
  while (ownProcessAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (ownProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(pidFile(name), { force: true });
  return true;
}

export async function down(services = ['kafka', 'cassandra', 'redis']) {
  for (const name of services) {
    if (await stopPid(name)) log(`${name} stopped`);
  }
}

async function main() {
  const [command = 'status', ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  switch (command) {
    case 'up':
      await up();
      break;
    case 'down':
      await down(rest.filter((a) => !a.startsWith('--')).length ? rest.filter((a) => !a.startsWith('--')) : undefined);
      break;
    case 'status': {
      const services = await status();
      if (json) {
        process.stdout.write(`${JSON.stringify(services)}\n`);
      } else {
        for (const s of services) {
          const owner = s.managed ? `pid ${s.pid}, ${s.rssMiB} MiB RSS` : s.up ? 'not started by us' : '';
          process.stdout.write(`${s.name.padEnd(10)} ${s.up ? 'up  ' : 'down'}  ${HOST}:${s.port}  ${owner}\n`);
        }
      }
      process.exitCode = services.every((s) => s.up) ? 0 : 3;
      break;
    }
    case 'env':
      for (const [k, v] of Object.entries(await connectionEnv())) process.stdout.write(`${k}=${v}\n`);
      break;
    default:
      process.stderr.write('usage: node scripts/infra.mjs up|down [kafka|cassandra|redis ...]|status [--json]|env\n');
      process.exitCode = 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`[infra] ${err instanceof InfraError ? err.message : err.stack}\n`);
    process.exit(1);
  });
}
