// Raw part: the bare graphql-ws edge (workers/bare-graphql-server.ts, its own process) driven
// exactly as the delivery scenario drives Parley: same rates, conversations, subscribers,
// subscriber processes and open-loop sender; plus its memory per open subscription.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { sleep } from '../lib/clock';
import { DELIVERY_LIMITS, measureDelivery, subscriptionSpecs, waitUntilLive, type Conversation, type DeliveryResult } from '../lib/delivery';
import { GraphqlHttp } from '../lib/graphql-http';
import { rssBytes } from '../lib/rss';
import { progress, runScenario } from '../lib/scenario';
import { SubscriberPool } from '../lib/subscriber-pool';

export interface RawGraphqlWsInput {
  readonly rates: readonly number[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly conversations: number;
  readonly subscribersPerConversation: number;
  readonly workers: number;
  /** Subscriptions opened (on one more conversation, after the rate runs) to measure memory per subscription. */
  readonly memorySubscriptions: number;
}

export interface RawGraphqlWsOutput {
  readonly runs: readonly DeliveryResult[];
  readonly bytesPerSubscription: number;
}

let server: ChildProcess | undefined;
let pool: SubscriberPool | undefined;

runScenario<RawGraphqlWsInput, RawGraphqlWsOutput>(
  async (input) => {
    server = fork(join(__dirname, '../workers/bare-graphql-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { port } = await new Promise<{ port: number }>((resolve) => server!.once('message', resolve));
    const conversations: Conversation[] = Array.from({ length: input.conversations }, (_, c) => ({
      id: `bare${c}`,
      members: Array.from({ length: input.subscribersPerConversation }, (_, j) => `c${c}u${j}`),
    }));
    const target = { apiUrls: [`127.0.0.1:${port}`], authorization: () => undefined, conversations };
    const http = new GraphqlHttp();
    const specs = subscriptionSpecs(target, input.subscribersPerConversation);
    pool = SubscriberPool.start(input.workers);
    await pool.open(specs);
    await waitUntilLive(http, target, pool, specs.length, 30_000);
    const runs: DeliveryResult[] = [];
    for (const rate of input.rates) {
      const run = await measureDelivery(http, target, pool, {
        label: `r${rate}`,
        rate,
        durationMs: input.durationMs,
        warmupMs: input.warmupMs,
        ...DELIVERY_LIMITS,
        subscribersPerConversation: input.subscribersPerConversation,
        pids: { 'bare-server': server!.pid! },
      });
      progress(`bare graphql-ws at ${rate}/s: p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, errors ${run.errors}`);
      runs.push(run);
    }
    // Memory after the runs, so that the baseline is a warmed-up server (as the API is by then).
    const many = { ...target, conversations: [{ id: 'memory', members: Array.from({ length: input.memorySubscriptions }, (_, j) => `m${j}`) }] };
    const before = await rssBytes(server.pid!);
    await pool.open(subscriptionSpecs(many, input.memorySubscriptions));
    await waitUntilLive(http, many, pool, input.memorySubscriptions, 60_000);
    await sleep(1_000);
    const bytesPerSubscription = Math.round(((await rssBytes(server.pid!)) - before) / input.memorySubscriptions);
    progress(`bare graphql-ws: ${Math.round(bytesPerSubscription / 1024)} KiB per subscription (${input.memorySubscriptions} opened)`);
    http.close();
    return { runs, bytesPerSubscription };
  },
  async () => {
    await pool?.close();
    server?.kill();
  },
);
