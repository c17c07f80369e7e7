// Scenario 1, delivery latency: sendMessage at fixed offered rates (open loop) across many
// conversations, subscribers spread over both API instances; latency per (message,
// subscriber) from the scheduled send to the receipt, with a timestamp at each hop.
import { DELIVERY_LIMITS, measureDelivery, subscriptionSpecs, waitUntilLive, warmUp, type DeliveryResult } from '../lib/delivery';
import { GraphqlHttp } from '../lib/graphql-http';
import { ParleyClient, projectorDrained, watchNotifications } from '../lib/parley';
import { progress, runScenario } from '../lib/scenario';
import { SubscriberPool } from '../lib/subscriber-pool';
import type { SystemInfo } from '../lib/system';

export interface DeliveryInput {
  readonly system: SystemInfo;
  readonly rates: readonly number[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly conversations: number;
  readonly subscribersPerConversation: number;
  readonly workers: number;
  readonly initialWarmupMs: number;
}

export interface DeliveryOutput {
  readonly conversations: number;
  readonly subscribers: number;
  readonly runs: readonly DeliveryResult[];
}

let pool: SubscriberPool | undefined;

runScenario<DeliveryInput, DeliveryOutput>(
  async (input) => {
    const http = new GraphqlHttp();
    const parley = new ParleyClient(input.system, http);
    const conversations = await parley.createGroups(`d${Date.now().toString(36)}`, input.conversations, input.subscribersPerConversation);
    const target = parley.target(conversations);
    const specs = subscriptionSpecs(target, input.subscribersPerConversation);
    pool = SubscriberPool.start(input.workers);
    const opened = await pool.open(specs);
    if (opened.failed) throw new Error(`${opened.failed} of ${specs.length} subscriber connections failed`);
    await waitUntilLive(http, target, pool, specs.length, 60_000);
    progress(`warm-up: 100 messages/s for ${input.initialWarmupMs / 1000} s`);
    await warmUp(http, target, pool, 100, input.initialWarmupMs);
    const notifications = await watchNotifications(input.system);
    const runs: DeliveryResult[] = [];
    try {
      for (const rate of input.rates) {
        progress(`delivery: ${rate} messages/s for ${input.durationMs / 1000} s (${input.conversations} conversations x ${input.subscribersPerConversation} subscribers)`);
        const result = await measureDelivery(http, target, pool, {
          label: `r${rate}`,
          rate,
          durationMs: input.durationMs,
          warmupMs: input.warmupMs,
          ...DELIVERY_LIMITS,
          subscribersPerConversation: input.subscribersPerConversation,
          settle: () => projectorDrained(input.system, 60_000),
          notifiedAt: notifications.notifiedAt,
          pids: input.system.pids,
        });
        progress(`  p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms, errors ${result.errors}`);
        runs.push(result);
        notifications.notifiedAt.clear();
      }
    } finally {
      await notifications.stop();
      http.close();
    }
    return { conversations: input.conversations, subscribers: specs.length, runs };
  },
  () => pool?.close(),
);
