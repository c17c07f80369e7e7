// The write path alone: sendMessage mutations over GraphQL HTTP through both API instances
// (alternating), open loop at fixed offered rates over GROUP conversations, no subscribers;
// the acknowledged latency (scheduled send -> HTTP reply: the event is durable in the log) and
// what each server process spends per command (/proc), to be read beside the bare coalescing
// producer of raw-kafka at the same rates.
import { cpuMsPer, cpuPercent, measureCpuTime, type CpuTime } from '../lib/cpu';
import { DELIVERY_LIMITS, sendMessage, type DeliveryTarget, type SendOutcome, type SendWindow } from '../lib/delivery';
import { GraphqlHttp } from '../lib/graphql-http';
import { openLoop, type OpenLoopReport } from '../lib/open-loop';
import { ParleyClient, projectorDrained } from '../lib/parley';
import { progress, runScenario } from '../lib/scenario';
import { distribution, perSecond, type Distribution } from '../lib/stats';
import type { Plan } from '../lib/plan';
import type { SystemInfo } from '../lib/system';

export type CommandInput = Plan['command'] & { readonly system: SystemInfo };

/** CPU ms per acknowledged command, per server process and all of them together. */
export interface CpuPerCommand {
  readonly perProcess: Record<string, number>;
  readonly all: number;
}

export interface CommandRun extends SendWindow {
  /** skipped + mutationErrors */
  readonly errors: number;
  readonly acknowledged: number;
  readonly achievedRate: number;
  /** From the scheduled send to the mutation's HTTP reply (ms), acknowledged commands only. */
  readonly ack: Distribution;
  /** From the scheduled send to the command handler's sentAt (ms). */
  readonly toHandler: Distribution;
  readonly generatorLateness: Distribution;
  /**
   * The measured window: from the first send due until the last reply. Every process's CPU in
   * it (ms and % of one core; the generator and `machine` too), and per acknowledged command.
   */
  readonly windowMs: number;
  readonly cpuMs: Record<string, number>;
  readonly cpuPercent: Record<string, number>;
  readonly cpuMsPerCommand: CpuPerCommand;
  /**
   * The window extended until the projector has applied every event of it (at most 60 s): the
   * CPU of all server processes per command including the projections' work for it.
   */
  readonly drainMs: number;
  readonly withDrainCpuMsPerCommand: CpuPerCommand;
}

export interface CommandOutput {
  readonly conversations: number;
  readonly runs: readonly CommandRun[];
}

interface Sent {
  readonly scheduledAt: number;
  outcome?: SendOutcome;
}

/** Open-loop sendMessage at `rate`: operation i by a member of conversation i mod n through instance i mod 2. */
function sendAtRate(http: GraphqlHttp, target: DeliveryTarget, prefix: string, rate: number, durationMs: number, sent: Sent[]): Promise<OpenLoopReport> {
  const { conversations } = target;
  return openLoop({
    rate,
    durationMs,
    maxInFlight: DELIVERY_LIMITS.maxInFlight,
    operation: async (i, scheduledAt) => {
      const conversation = conversations[i % conversations.length];
      const sender = conversation.members[Math.floor(i / conversations.length) % conversation.members.length];
      const record: Sent = { scheduledAt };
      sent[i] = record;
      record.outcome = await sendMessage(http, target, i, conversation, sender, `${prefix}${i}`);
    },
  });
}

const DRAIN_TIMEOUT_MS = 60_000;

async function measure(http: GraphqlHttp, target: DeliveryTarget, system: SystemInfo, rate: number, input: CommandInput): Promise<CommandRun> {
  const stamp = Date.now().toString(36);
  if (input.warmupMs > 0) await sendAtRate(http, target, `cw${rate}x${stamp}-`, rate, input.warmupMs, []);
  // The warm-up's projection work is not counted in the window.
  await projectorDrained(system, DRAIN_TIMEOUT_MS);
  const serverProcesses = Object.keys(system.pids);
  const sent: Sent[] = [];
  const cpu = measureCpuTime({ ...system.pids, generator: process.pid });
  const loop = await sendAtRate(http, target, `c${rate}x${stamp}-`, rate, input.durationMs, sent);
  const window: CpuTime = cpu();
  const drainStarted = performance.now();
  await projectorDrained(system, DRAIN_TIMEOUT_MS);
  const drainMs = Math.round(performance.now() - drainStarted);
  const withDrain = cpu();

  const ack: number[] = [];
  const toHandler: number[] = [];
  const errorSamples = new Set<string>();
  let mutationErrors = 0;
  for (const s of sent) {
    if (!s?.outcome) continue;
    if (s.outcome.error) {
      mutationErrors++;
      if (errorSamples.size < 5) errorSamples.add(s.outcome.error);
      continue;
    }
    ack.push(s.outcome.ackAt - s.scheduledAt);
    if (s.outcome.sentAt !== undefined) toHandler.push(s.outcome.sentAt - s.scheduledAt);
  }
  return {
    rate,
    durationMs: input.durationMs,
    offered: loop.offered,
    sent: loop.started,
    skipped: loop.skipped,
    mutationErrors,
    errorSamples: [...errorSamples],
    errors: loop.skipped + mutationErrors,
    acknowledged: ack.length,
    achievedRate: perSecond(loop.started, loop.windowMs),
    ack: distribution(ack),
    toHandler: distribution(toHandler),
    generatorLateness: loop.lateness,
    windowMs: Math.round(window.elapsedMs),
    cpuMs: window.cpuMs,
    cpuPercent: cpuPercent(window),
    cpuMsPerCommand: cpuMsPer(window.cpuMs, serverProcesses, ack.length),
    drainMs,
    withDrainCpuMsPerCommand: cpuMsPer(withDrain.cpuMs, serverProcesses, ack.length),
  };
}

runScenario<CommandInput, CommandOutput>(async (input) => {
  const http = new GraphqlHttp();
  try {
    const parley = new ParleyClient(input.system, http);
    const conversations = await parley.createGroups(`c${Date.now().toString(36)}`, input.conversations, input.membersPerConversation);
    const target = parley.target(conversations);
    progress(`warm-up: 100 messages/s for ${input.initialWarmupMs / 1000} s`);
    await sendAtRate(http, target, `ci${Date.now().toString(36)}-`, 100, input.initialWarmupMs, []);
    const runs: CommandRun[] = [];
    for (const rate of input.rates) {
      progress(`command: sendMessage at ${rate}/s for ${input.durationMs / 1000} s (${input.conversations} conversations, both API instances, no subscribers)`);
      const run = await measure(http, target, input.system, rate, input);
      const perCommand = run.cpuMsPerCommand.perProcess;
      progress(
        `  ack p50 ${run.ack.p50} ms, p99 ${run.ack.p99} ms, max ${run.ack.max} ms, errors ${run.errors}${run.errorSamples.length ? ` (${run.errorSamples.join('; ')})` : ''}; ` +
          `CPU per command: command-service ${perCommand['command-service']} ms, kafka ${perCommand.kafka} ms, all server processes ${run.cpuMsPerCommand.all} ms`,
      );
      runs.push(run);
    }
    return { conversations: input.conversations, runs };
  } finally {
    http.close();
  }
});
