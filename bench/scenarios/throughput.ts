// Scenario 2, throughput: steps the offered sendMessage rate up, each step for a bounded
// window, until a step fails; a step holds when projection lag stays under 1 s, every message
// reaches its checking subscriber (nothing lost) and the generator kept the rate. Lag: 99% of
// the messages' timeline change notifications within 1 s of sentAt, and no projection more than
// one second of traffic behind the log end (GET /projections every 500 ms).
import { sleep } from '../lib/clock';
import { measureDelivery, STAGES, subscriptionSpecs, waitUntilLive, warmUp, type DeliveryResult } from '../lib/delivery';
import { GraphqlHttp } from '../lib/graphql-http';
import { ParleyClient, projectionRuns, projectorDrained, watchNotifications } from '../lib/parley';
import { progress, runScenario } from '../lib/scenario';
import { SubscriberPool } from '../lib/subscriber-pool';
import type { SystemInfo } from '../lib/system';

export interface ThroughputInput {
  readonly system: SystemInfo;
  readonly rates: readonly number[];
  readonly windowMs: number;
  readonly conversations: number;
  readonly initialWarmupMs: number;
}

export interface ThroughputStep {
  readonly rate: number;
  readonly held: boolean;
  readonly why: string;
  /**
   * Largest lagSeconds the projector reported during the window. Informative only: it is the
   * age of the last event the projection handled, so it overstates the lag of projections
   * that skip most events (presence).
   */
  readonly maxReportedLagSeconds: number;
  /** Most events any serving projection was behind the log end, sampled every 500 ms. */
  readonly maxLagEvents: number;
  /** maxLagEvents in seconds of offered traffic: the lag criterion for every projection. */
  readonly maxLagSeconds: number;
  /** From a message's sentAt to its timeline change notification (ms): p99 (the criterion) and max. */
  readonly p99TimelineLagMs: number;
  readonly maxTimelineLagMs: number;
  readonly delivery: DeliveryResult;
}

export interface ThroughputOutput {
  readonly maxSustainedRate: number;
  readonly windowMs: number;
  readonly steps: readonly ThroughputStep[];
}

/** Polls the projector's lag every 500 ms until stopped; the maxima seen. */
function watchLag(system: SystemInfo): () => Promise<{ seconds: number; events: number }> {
  let seconds = 0;
  let events = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const run of await projectionRuns(system).catch(() => [])) {
        seconds = Math.max(seconds, run.lagSeconds);
        events = Math.max(events, run.lagEvents);
      }
      await sleep(500);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { seconds, events };
  };
}

const LAG_LIMIT_SECONDS = 1;

let pool: SubscriberPool | undefined;

runScenario<ThroughputInput, ThroughputOutput>(
  async (input) => {
    const http = new GraphqlHttp();
    const parley = new ParleyClient(input.system, http);
    const conversations = await parley.createGroups(`t${Date.now().toString(36)}`, input.conversations, 4);
    const target = parley.target(conversations);
    const specs = subscriptionSpecs(target, 1);
    pool = SubscriberPool.start(1);
    await pool.open(specs);
    await waitUntilLive(http, target, pool, specs.length, 60_000);
    progress(`warm-up: 100 messages/s for ${input.initialWarmupMs / 1000} s`);
    await warmUp(http, target, pool, 100, input.initialWarmupMs);
    const notifications = await watchNotifications(input.system);
    const steps: ThroughputStep[] = [];
    try {
      for (const rate of input.rates) {
        progress(`throughput: ${rate} messages/s for ${input.windowMs / 1000} s`);
        await projectorDrained(input.system, 60_000);
        notifications.notifiedAt.clear();
        const stopLag = watchLag(input.system);
        const delivery = await measureDelivery(http, target, pool, {
          label: `t${rate}`,
          rate,
          durationMs: input.windowMs,
          warmupMs: 0,
          deadlineMs: 15_000,
          maxInFlight: 5_000,
          subscribersPerConversation: 1,
          notifiedAt: notifications.notifiedAt,
          pids: input.system.pids,
        });
        const lag = await stopLag();
        const timelineLag = delivery.stages?.[STAGES.toNotified];
        const maxTimelineLagMs = timelineLag?.max ?? NaN;
        const p99TimelineLagMs = timelineLag?.p99 ?? NaN;
        const maxLagSeconds = lag.events / rate;
        const problems = [
          delivery.errors > 0 ? `${delivery.errors} errors (${delivery.mutationErrors} failed sends, ${delivery.lost} lost, ${delivery.skipped} not sent)` : '',
          maxLagSeconds >= LAG_LIMIT_SECONDS ? `projection lag ${lag.events} events (${maxLagSeconds.toFixed(1)} s of traffic)` : '',
          !(p99TimelineLagMs < LAG_LIMIT_SECONDS * 1000) ? `timeline lag p99 ${Math.round(p99TimelineLagMs)} ms` : '',
          delivery.achievedRate < 0.95 * rate ? `only ${delivery.achievedRate}/s sent` : '',
        ].filter(Boolean);
        const step = { rate, held: problems.length === 0, why: problems.join('; ') || 'held', maxReportedLagSeconds: lag.seconds, maxLagEvents: lag.events, maxLagSeconds, p99TimelineLagMs, maxTimelineLagMs, delivery };
        progress(`  ${step.why}; timeline lag p99 ${Math.round(p99TimelineLagMs)} ms, max ${Math.round(maxTimelineLagMs)} ms; delivery p99 ${delivery.latency.p99} ms`);
        steps.push(step);
        if (!step.held) break;
      }
    } finally {
      await notifications.stop();
      http.close();
    }
    const held = steps.filter((s) => s.held).map((s) => s.rate);
    return { maxSustainedRate: held.length ? Math.max(...held) : 0, windowMs: input.windowMs, steps };
  },
  () => pool?.close(),
);
