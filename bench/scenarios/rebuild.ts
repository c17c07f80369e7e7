// Scenario 4, rebuild rate: a projector of its own on the bulk log builds every projection
// (first build), then `projections rebuild timeline` is requested through the durable catalog
// (as `parley projections rebuild timeline --detach` does) and timed until version 2 serves.
import { CassandraConfig, createCassandraClient, ProjectionCatalog } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { freePort } from '@parley/testing';
import { now, sleep } from '../lib/clock';
import { progress, runScenario } from '../lib/scenario';
import { perSecond } from '../lib/stats';
import { startApp, stopApps, type AppProcess } from '../lib/system';

export interface RebuildInput {
  readonly env: Record<string, string>;
  readonly topic: string;
  readonly keyspace: string;
  readonly partitions: number;
  readonly events: number;
}

export interface RebuildOutput {
  readonly events: number;
  /** From the projector's start until every projection (timeline, inbox, presence) had applied the whole log. */
  readonly firstBuildMs: number;
  readonly firstBuildRate: number;
  /** From the rebuild request until timeline v2 served reads. */
  readonly rebuildMs: number;
  readonly rebuildRate: number;
}

interface Run {
  readonly name: string;
  readonly version: number;
  readonly state: string;
  readonly lagEvents: number;
  readonly progress: number;
}

let projector: AppProcess | undefined;

async function runs(url: string): Promise<Run[]> {
  return (await (await fetch(`${url}/projections`)).json()) as Run[];
}

/** Polls `done` every 250 ms (progress every 10 s) within `timeoutMs`. */
async function until(what: string, timeoutMs: number, done: () => Promise<boolean>, describe: () => Promise<string>): Promise<void> {
  const deadline = now() + timeoutMs;
  let reported = now();
  while (!(await done())) {
    if (now() > deadline) throw new Error(`${what} took longer than ${timeoutMs / 1000} s (${await describe()})`);
    if (now() - reported > 10_000) {
      reported = now();
      progress(`${what}: ${await describe()}`);
    }
    await sleep(250);
  }
}

runScenario<RebuildInput, RebuildOutput>(
  async (input) => {
    const port = await freePort();
    const env = { ...input.env, EVENTS_TOPIC: input.topic, EVENTS_TOPIC_PARTITIONS: String(input.partitions), CASSANDRA_KEYSPACE: input.keyspace, PROJECTOR_HTTP_PORT: String(port) };
    const url = `http://127.0.0.1:${port}`;
    const describe = async () => (await runs(url)).map((r) => `${r.name} v${r.version} ${r.state} ${Math.round(r.progress * 100)}% lag ${r.lagEvents}`).join(', ');
    const timeoutMs = Math.max(120_000, input.events / 1.5);

    const started = now();
    projector = await startApp('projector', env, port, 'projector-rebuild');
    await until('first build', timeoutMs, async () => {
      const all = await runs(url);
      return all.length >= 3 && all.every((r) => r.state === 'LIVE' && r.lagEvents === 0);
    }, describe);
    const firstBuildMs = Math.round(now() - started);
    progress(`first build of every projection: ${firstBuildMs} ms`);

    const cassandra = createCassandraClient(loadConfig(CassandraConfig, env));
    await cassandra.connect();
    try {
      const catalog = new ProjectionCatalog(cassandra, input.keyspace);
      const rebuildStarted = now();
      const request = await catalog.requestRebuild('timeline');
      if (request.outcome !== 'started') throw new Error(`rebuild not started: ${request.outcome}`);
      await until('rebuild of timeline', timeoutMs, async () => (await catalog.versions()).find((v) => v.name === 'timeline')?.serving === 2, describe);
      const rebuildMs = Math.round(now() - rebuildStarted);
      return { events: input.events, firstBuildMs, firstBuildRate: perSecond(input.events, firstBuildMs), rebuildMs, rebuildRate: perSecond(input.events, rebuildMs) };
    } finally {
      await cassandra.shutdown();
    }
  },
  () => (projector ? stopApps([projector]) : undefined),
);
