// `npm run bench [-- --quick] [-- --only delivery,rebuild]`: starts a Parley system of its own
// on the running infrastructure, runs each scenario as its own process (the load generators),
// prints a table and writes bench/results/<ISO timestamp>.json. See bench/README.md.
import { loadConfig } from '@parley/config';
import { createRedis, RedisConfig } from '@parley/redis';
import { uniqueName } from '@parley/testing';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChild } from './lib/child';
import { now } from './lib/clock';
import { machineInfo } from './lib/machine';
import { makePlan, SCENARIOS, type Plan, type ScenarioName } from './lib/plan';
import { formatCommand, formatStages, formatTable, tableRows, type Outcome, type Results } from './lib/report';
import { dropResources, infrastructurePids, ROOT, startSystem, stopApps, type AppProcess, type SystemInfo } from './lib/system';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, events: { type: 'string' }, rates: { type: 'string' } },
});

/** The scenarios that drive the bench's own Parley system. */
const SYSTEM_SCENARIOS: readonly ScenarioName[] = ['command', 'delivery', 'throughput', 'fanout'];

function selectedScenarios(): ScenarioName[] {
  if (!args.only) return [...SCENARIOS];
  const names = args.only.split(',').map((s) => s.trim());
  for (const name of names) if (!SCENARIOS.includes(name as ScenarioName)) throw new Error(`--only: no scenario ${JSON.stringify(name)} (${SCENARIOS.join(', ')})`);
  return SCENARIOS.filter((s) => names.includes(s));
}

/** `node scripts/infra.mjs up` (idempotent), then the connection variables it reports. */
function infrastructureEnv(): Record<string, string> {
  execFileSync(process.execPath, [join(ROOT, 'scripts/infra.mjs'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts/infra.mjs'), 'env'], { encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

async function redisVersion(env: Record<string, string>): Promise<string> {
  const redis = createRedis(loadConfig(RedisConfig, env), 'bench');
  try {
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    await redis.quit();
  }
}

/** The input each scenario process gets. */
function inputs(plan: Plan, system: SystemInfo | undefined, bulk: { topic: string; keyspace: string }, env: Record<string, string>, kafkaPid: number | undefined): Record<ScenarioName | 'bulk-log', unknown> {
  const rates = plan.delivery.rates;
  const log = { env, topic: bulk.topic, partitions: plan.partitions, events: plan.bulkEvents };
  // The bare coalescing producer runs at the command scenario's rates, windows and warm-ups.
  const producer = { rates: plan.command.rates, durationMs: plan.command.durationMs, warmupMs: plan.command.warmupMs };
  return {
    'raw-kafka': { rates, durationMs: plan.raw.durationMs, partitions: plan.partitions, producer, kafkaPid },
    'raw-redis': { rates, durationMs: plan.raw.durationMs },
    'raw-cassandra': { writes: plan.raw.cassandraWrites, concurrency: plan.raw.cassandraConcurrency },
    'raw-graphql-ws': { ...plan.delivery, memorySubscriptions: plan.fanout.sizes[0] },
    command: { system, ...plan.command },
    delivery: { system, ...plan.delivery },
    throughput: { system, ...plan.throughput },
    fanout: { system, ...plan.fanout },
    'bulk-log': { topic: bulk.topic, partitions: plan.partitions, events: plan.bulkEvents },
    rebuild: { ...log, keyspace: bulk.keyspace },
    replay: log,
    'command-memory': { env, partitions: plan.partitions, ...plan.commandMemory },
  };
}

async function main(): Promise<void> {
  const started = now();
  const startedAt = new Date();
  // --events N: the size of the rebuild/replay log (default 1,000,000; 100,000 with --quick).
  const base = makePlan(args.quick);
  // --rates 200,400: the offered rates of the command and delivery scenarios (e.g. below where the machine saturates).
  const rates = args.rates?.split(',').map(Number);
  if (rates?.some((r) => !(r > 0))) throw new Error(`--rates: positive numbers separated by commas (got ${JSON.stringify(args.rates)})`);
  const plan: Plan = {
    ...base,
    ...(args.events ? { bulkEvents: Number(args.events) } : {}),
    ...(rates ? { command: { ...base.command, rates }, delivery: { ...base.delivery, rates } } : {}),
  };
  const selected = selectedScenarios();
  const needsSystem = selected.some((s) => SYSTEM_SCENARIOS.includes(s));
  const needsLog = selected.some((s) => ['rebuild', 'replay'].includes(s));
  const connectionEnv = infrastructureEnv();
  const env = { ...(process.env as Record<string, string>), ...connectionEnv };
  const machine = machineInfo(await redisVersion(env));
  console.error(`bench (${plan.mode}): ${selected.join(', ')} on ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB`);

  const bulk = { topic: uniqueName('bench_log'), keyspace: uniqueName('bench_log') };
  let apps: AppProcess[] = [];
  let system: SystemInfo | undefined;
  const teardown = async () => {
    await stopApps(apps);
    apps = [];
    await dropResources(env, { topics: [bulk.topic, ...(system ? [system.topic] : [])], keyspaces: [bulk.keyspace, ...(system ? [system.keyspace] : [])] });
  };
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    void teardown().finally(() => process.exit(130));
  });

  const results: Results = {};
  try {
    if (needsSystem) {
      console.error('starting command-service, projector and two graphql-api instances');
      ({ info: system, apps } = await startSystem(connectionEnv, plan.partitions));
    }
    const run = async (name: ScenarioName | 'bulk-log', input: unknown) => {
      const t0 = now();
      console.error(`--- ${name}`);
      let outcome: Outcome<unknown>;
      try {
        outcome = { ok: true, elapsedMs: Math.round(now() - t0), result: await runChild(name, input, { timeoutMs: plan.timeoutsMs[name], env }) };
        outcome = { ...outcome, elapsedMs: Math.round(now() - t0) };
      } catch (err) {
        outcome = { ok: false, elapsedMs: Math.round(now() - t0), error: (err as Error).message };
        console.error(`${name} failed: ${(err as Error).message}`);
      }
      (results as Record<string, Outcome<unknown>>)[name] = outcome;
      return outcome.ok;
    };
    // The broker's CPU per message of the bare producer (scripts/infra.mjs records its pid).
    const kafkaPid = selected.includes('raw-kafka') ? (system?.pids.kafka ?? (await infrastructurePids(env)).kafka) : undefined;
    const scenarioInputs = inputs(plan, system, bulk, env, kafkaPid);
    // The bulk log first when a raw part reads it too (the plain kafka read of the same log).
    const logOk = needsLog ? await run('bulk-log', scenarioInputs['bulk-log']) : false;
    for (const name of selected) {
      if (interrupted) break;
      if (SYSTEM_SCENARIOS.includes(name) && !system) continue;
      if (['rebuild', 'replay'].includes(name) && !logOk) continue;
      const input = name === 'raw-kafka' && logOk ? { ...(scenarioInputs[name] as object), bulk: { topic: bulk.topic, events: plan.bulkEvents } } : scenarioInputs[name];
      await run(name, input);
    }
  } finally {
    console.error('tearing down');
    await teardown();
  }

  const rows = tableRows(results, plan.fanout);
  const elapsedMs = Math.round(now() - started);
  console.log(`\nParley bench (${plan.mode}), ${startedAt.toISOString()}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}\n`);
  console.log(formatTable(rows));
  const stages = formatStages(results.delivery?.ok ? results.delivery.result : undefined, machine.cores);
  if (stages) console.log(`\n${stages}`);
  const command = formatCommand(results.command?.ok ? results.command.result : undefined, machine.cores);
  if (command) console.log(`\n${command}`);
  console.log(`\nTotal: ${(elapsedMs / 1000).toFixed(0)} s`);

  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/:/g, '-')}${plan.mode === 'quick' ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ startedAt: startedAt.toISOString(), elapsedMs, mode: plan.mode, scenarios: selected, machine, plan, table: rows, results }, null, 2)}\n`);
  console.log(`Results: ${file}`);
  if (Object.values(results).some((o) => o && !o.ok)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
