// Scenario 3, fan-out: one group with N members, each holding a messageSent subscription
// (spread over both API instances and over several generator processes); a handful of
// messages; the time until all N have each one; API memory per open subscription.
import { CassandraWriteCounter } from '../lib/cassandra-writes';
import { collectGarbage } from '../lib/inspector';
import { now, sleep } from '../lib/clock';
import { sendMessage, subscriptionSpecs, waitUntilLive } from '../lib/delivery';
import { GraphqlHttp } from '../lib/graphql-http';
import { ParleyClient, projectorDrained } from '../lib/parley';
import { totalRssBytes } from '../lib/rss';
import { progress, runScenario } from '../lib/scenario';
import { distribution, type Distribution } from '../lib/stats';
import { SubscriberPool } from '../lib/subscriber-pool';
import type { SystemInfo } from '../lib/system';

export interface FanoutInput {
  readonly system: SystemInfo;
  readonly sizes: readonly number[];
  readonly messages: number;
  readonly workers: number;
}

export interface FanoutRun {
  readonly subscribers: number;
  readonly messages: number;
  /** Per message: from the send to the last subscriber's receipt (ms). */
  readonly allReceived: Distribution;
  /** Per message: from the send to the first receipt (ms). */
  readonly firstReceived: Distribution;
  /** (message, live subscriber) pairs not received within 20 s. */
  readonly lost: number;
  /** Subscriptions that ended with an error before they were live, and a few of the errors. */
  readonly failedSubscriptions: number;
  readonly subscriptionErrors: readonly string[];
  readonly subscribeMs: number;
  readonly apiRssBeforeBytes: number;
  /** 5 s after every subscription was live. */
  readonly apiRssAfterBytes: number;
  /** After the messages, subscriptions still open (garbage of the subscribing burst collected by then, or not). */
  readonly apiRssAtEndBytes: number;
  /** (the lower of the two RSS readings with subscriptions open - before) / subscribers: what the processes grew by, garbage included. */
  readonly rssPerSubscription: number;
  /**
   * What an open subscription keeps: (heap used + external memory of both API instances after a
   * full GC with the subscriptions open - the same before) / subscribers.
   */
  readonly bytesPerSubscription: number;
  /** The same, heap used and external memory (buffers) apart. */
  readonly heapPerSubscription: number;
  readonly externalPerSubscription: number;
  /**
   * Cassandra writes (mutations, from system_views.local_write_latency) per message, by table,
   * from before the first message until the projector has applied the last: the live lane's and
   * every projection's, checkpoints and status included.
   */
  readonly cassandraWritesPerMessage: Record<string, number>;
}

let pool: SubscriberPool | undefined;

/** Heap used and external memory of the API instances after a full GC in each. */
async function heldBytes(system: SystemInfo): Promise<{ heap: number; external: number }> {
  const usages = await Promise.all(system.apiInspectPorts.map((port) => collectGarbage(port)));
  return { heap: usages.reduce((sum, u) => sum + u.heapUsed, 0), external: usages.reduce((sum, u) => sum + u.external, 0) };
}

async function fanout(input: FanoutInput, parley: ParleyClient, size: number): Promise<FanoutRun> {
  const members = Array.from({ length: size }, (_, j) => `f${size}x${Date.now().toString(36)}u${j}`);
  progress(`fan-out: creating a group of ${size}`);
  const group = await parley.createGroup(members);
  const target = parley.target([group]);
  const specs = subscriptionSpecs(target, size);
  const heldBefore = await heldBytes(input.system);
  const rssBefore = await totalRssBytes(input.system.apiPids);
  pool = SubscriberPool.start(input.workers);
  const started = now();
  const opened = await pool.open(specs);
  if (opened.failed) throw new Error(`${opened.failed} of ${size} subscriber connections failed`);
  const live = await waitUntilLive(parley.http, target, pool, size, 120_000, true);
  if (live.failed) progress(`  ${live.failed} subscriptions failed: ${live.errorSamples.join('; ')}`);
  const subscribeMs = now() - started;
  const expected = size - live.failed;
  await sleep(5_000);
  const rssAfter = await totalRssBytes(input.system.apiPids);
  const heldAfter = await heldBytes(input.system);
  progress(`  ${expected} of ${size} subscriptions live in ${Math.round(subscribeMs)} ms; API RSS +${Math.round((rssAfter - rssBefore) / 1024)} KiB`);

  await projectorDrained(input.system, 60_000);
  const writes = new CassandraWriteCounter(input.system.env, input.system.keyspace);
  const writesBefore = await writes.counts();
  const all: number[] = [];
  const first: number[] = [];
  let lost = 0;
  for (let k = 0; k < input.messages; k++) {
    const id = `f${size}-${k}`;
    const sentAt = now();
    const outcome = await sendMessage(parley.http, target, k, group, members[k % members.length], id);
    if (outcome.error) throw new Error(`sendMessage failed: ${outcome.error}`);
    const deadline = now() + 20_000;
    while (now() < deadline && (await pool.count(id)).receipts < expected) await sleep(20);
    const times = (await pool.collect(id))[id] ?? [];
    lost += expected - times.length;
    if (times.length) {
      all.push(Math.max(...times) - sentAt);
      first.push(Math.min(...times) - sentAt);
    }
  }
  const rssAtEnd = await totalRssBytes(input.system.apiPids);
  await projectorDrained(input.system, 60_000);
  const written = await writes.since(writesBefore);
  await writes.close();
  await pool.close();
  pool = undefined;
  return {
    subscribers: size,
    messages: input.messages,
    allReceived: distribution(all),
    firstReceived: distribution(first),
    lost,
    failedSubscriptions: live.failed,
    subscriptionErrors: live.errorSamples,
    subscribeMs: Math.round(subscribeMs),
    apiRssBeforeBytes: rssBefore,
    apiRssAfterBytes: rssAfter,
    apiRssAtEndBytes: rssAtEnd,
    rssPerSubscription: Math.round((Math.min(rssAfter, rssAtEnd) - rssBefore) / expected),
    bytesPerSubscription: Math.round((heldAfter.heap + heldAfter.external - heldBefore.heap - heldBefore.external) / expected),
    heapPerSubscription: Math.round((heldAfter.heap - heldBefore.heap) / expected),
    externalPerSubscription: Math.round((heldAfter.external - heldBefore.external) / expected),
    cassandraWritesPerMessage: Object.fromEntries(Object.entries(written).map(([table, n]) => [table, Math.round((n / input.messages) * 100) / 100])),
  };
}

runScenario<FanoutInput, { runs: FanoutRun[] }>(
  async (input) => {
    const http = new GraphqlHttp();
    const parley = new ParleyClient(input.system, http);
    const runs: FanoutRun[] = [];
    for (const size of input.sizes) {
      const run = await fanout(input, parley, size);
      progress(`  all ${size} received: p50 ${run.allReceived.p50} ms, p99 ${run.allReceived.p99} ms; ${Math.round(run.bytesPerSubscription / 1024)} KiB per subscription`);
      runs.push(run);
    }
    http.close();
    return { runs };
  },
  () => pool?.close(),
);
