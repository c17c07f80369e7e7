/** Every scenario, in the order a run goes through them. */
export const SCENARIOS = ['raw-kafka', 'raw-redis', 'raw-cassandra', 'raw-graphql-ws', 'command', 'delivery', 'throughput', 'fanout', 'rebuild', 'replay'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** What one run does: `--quick` shortens everything to stay under 5 minutes, the full run under 30. */
export interface Plan {
  readonly mode: 'quick' | 'full';
  readonly partitions: number;
  readonly delivery: {
    readonly rates: readonly number[];
    readonly durationMs: number;
    readonly warmupMs: number;
    readonly conversations: number;
    readonly subscribersPerConversation: number;
    readonly workers: number;
    /** Unmeasured traffic at 100 messages/s on the fresh conversations before the first rate. */
    readonly initialWarmupMs: number;
  };
  /**
   * sendMessage alone (no subscribers), open loop through both API instances; the bare
   * coalescing producer of raw-kafka runs at the same rates, windows and warm-ups.
   */
  readonly command: {
    readonly rates: readonly number[];
    readonly durationMs: number;
    /** Unmeasured traffic at each rate before its window. */
    readonly warmupMs: number;
    readonly conversations: number;
    readonly membersPerConversation: number;
    /** Unmeasured traffic at 100 messages/s on the fresh conversations before the first rate. */
    readonly initialWarmupMs: number;
  };
  readonly throughput: { readonly rates: readonly number[]; readonly windowMs: number; readonly conversations: number; readonly initialWarmupMs: number };
  readonly fanout: { readonly sizes: readonly number[]; readonly messages: number; readonly workers: number };
  readonly bulkEvents: number;
  readonly raw: { readonly durationMs: number; readonly cassandraWrites: number; readonly cassandraConcurrency: number };
  /** Hard limit per scenario process. */
  readonly timeoutsMs: Record<ScenarioName | 'bulk-log', number>;
}

const MINUTE = 60_000;

export function makePlan(quick: boolean): Plan {
  const initialWarmupMs = quick ? 5_000 : 15_000;
  const delivery = {
    rates: quick ? [100, 1_000] : [100, 500, 1_000, 2_000],
    durationMs: quick ? 6_000 : 20_000,
    warmupMs: quick ? 2_000 : 5_000,
    conversations: 50,
    subscribersPerConversation: 4,
    workers: 2,
    initialWarmupMs,
  };
  return {
    mode: quick ? 'quick' : 'full',
    partitions: 12,
    command: {
      rates: [500, 1_000],
      durationMs: quick ? 6_000 : 20_000,
      warmupMs: quick ? 2_000 : 5_000,
      conversations: 50,
      membersPerConversation: 4,
      initialWarmupMs,
    },
    delivery,
    throughput: {
      initialWarmupMs,
      rates: quick ? [50, 100, 200, 400] : [50, 100, 200, 300, 400, 600, 800, 1_000, 1_500, 2_000, 3_000, 4_000],
      windowMs: quick ? 8_000 : 60_000,
      conversations: 50,
    },
    fanout: { sizes: quick ? [1_000] : [1_000, 5_000], messages: quick ? 10 : 20, workers: 2 },
    bulkEvents: quick ? 100_000 : 1_000_000,
    raw: { durationMs: quick ? 3_000 : 10_000, cassandraWrites: quick ? 30_000 : 200_000, cassandraConcurrency: 64 },
    timeoutsMs: {
      'raw-kafka': (quick ? 2 : 5) * MINUTE,
      'raw-redis': (quick ? 1 : 2) * MINUTE,
      'raw-cassandra': (quick ? 1 : 3) * MINUTE,
      'raw-graphql-ws': (quick ? 2 : 4) * MINUTE,
      command: (quick ? 3 : 6) * MINUTE,
      delivery: (quick ? 2 : 8) * MINUTE,
      throughput: (quick ? 2 : 12) * MINUTE,
      fanout: (quick ? 2 : 6) * MINUTE,
      'bulk-log': (quick ? 1 : 4) * MINUTE,
      rebuild: (quick ? 3 : 15) * MINUTE,
      replay: (quick ? 1 : 4) * MINUTE,
    },
  };
}
