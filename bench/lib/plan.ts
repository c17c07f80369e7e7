/** Every scenario, in the order a run goes through them. */
export const SCENARIOS = ['raw-kafka', 'raw-redis', 'raw-cassandra', 'raw-graphql-ws', 'command', 'delivery', 'throughput', 'fanout', 'rebuild', 'replay', 'command-memory'] as const;
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
  /**
   * The command service's memory after reading a log of each size (one growing log per shape,
   * measured at each size), for each shape of traffic (bulk writer options).
   */
  readonly commandMemory: { readonly sizes: readonly number[]; readonly shapes: readonly CommandMemoryShape[] };
  readonly raw: { readonly durationMs: number; readonly cassandraWrites: number; readonly cassandraConcurrency: number };
  /** Hard limit per scenario process. */
  readonly timeoutsMs: Record<ScenarioName | 'bulk-log', number>;
}

/** A shape of the command-memory log: options of the bulk writer's generator. */
export interface CommandMemoryShape {
  readonly name: string;
  readonly activeConversations: number;
  readonly meanConversationEvents: number;
  readonly groupShare?: number;
}

/**
 * 50 GROUP conversations that live through the whole log (a lifetime far longer than any log:
 * none is ever replaced), and short-lived conversations (10 commands each after their creation,
 * 1,000 at a time, the default mix of GROUP and DIRECT): as many as the generator can make of
 * the log, ~72,000 per million events.
 */
const COMMAND_MEMORY_SHAPES: readonly CommandMemoryShape[] = [
  { name: '50 conversations', activeConversations: 50, meanConversationEvents: 1e12, groupShare: 1 },
  { name: 'many conversations', activeConversations: 1_000, meanConversationEvents: 10 },
];

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
    commandMemory: { sizes: quick ? [100_000, 200_000] : [500_000, 1_000_000], shapes: COMMAND_MEMORY_SHAPES },
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
      'command-memory': (quick ? 5 : 15) * MINUTE,
    },
  };
}
