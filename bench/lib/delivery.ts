import { now, sleep } from './clock';
import { cpuMsPer, cpuPercent, measureCpuTime } from './cpu';
import type { GraphqlHttp } from './graphql-http';
import { openLoop } from './open-loop';
import { distribution, perSecond, type Distribution } from './stats';
import type { SubscriberPool } from './subscriber-pool';
import type { Receipts, SubscriptionSpec } from './subscriber-protocol';

export interface Conversation {
  readonly id: string;
  readonly members: readonly string[];
}

/** Where messages are sent and subscribed to: Parley's API instances, or the bare graphql-ws server. */
export interface DeliveryTarget {
  /** host:port of each instance: senders and subscribers alternate between them. */
  readonly apiUrls: readonly string[];
  readonly authorization: (userId: string) => string | undefined;
  readonly conversations: readonly Conversation[];
}

export const MESSAGE_FIELDS = 'id clientMessageId conversationId senderId body sentAt cursor';
export const SEND_MESSAGE = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;
export const MESSAGE_SENT = `subscription($id: ID!) { messageSent(conversationId: $id) { ${MESSAGE_FIELDS} } }`;
/** The hops of the delivery path, between the timestamps the bench can take. */
export const STAGES = {
  toCommand: 'client -> API (auth, rate limit) -> gRPC -> command handler (sentAt)',
  toDurable: 'sentAt -> conversation lock, log catch-up, Kafka append (acks=all) -> client',
  toNotified: 'sentAt -> Kafka -> projector -> Cassandra -> Redis publish',
  toSubscriber: 'Redis publish -> API -> graphql-ws -> subscriber',
} as const;

const BODY = 'A benchmark message of about a hundred characters, as a chat line would be; nothing more to it. #';

/** The first `perConversation` members of each conversation subscribe, spread over the instances. */
export function subscriptionSpecs(target: DeliveryTarget, perConversation: number): SubscriptionSpec[] {
  return target.conversations.flatMap((conversation, c) =>
    conversation.members.slice(0, perConversation).map((member, j) => ({
      url: `ws://${target.apiUrls[(c + j) % target.apiUrls.length]}/graphql`,
      authorization: target.authorization(member),
      query: MESSAGE_SENT,
      variables: { id: conversation.id },
    })),
  );
}

export interface SendOutcome {
  readonly ackAt: number;
  /** The server's sentAt (the command service's clock), ms since the epoch. */
  readonly sentAt?: number;
  readonly error?: string;
}

/** sendMessage by one member of the conversation through one instance. */
export async function sendMessage(http: GraphqlHttp, target: DeliveryTarget, instance: number, conversation: Conversation, sender: string, clientMessageId: string): Promise<SendOutcome> {
  try {
    const res = await http.post<{ sendMessage: { sentAt: string } }>(
      target.apiUrls[instance % target.apiUrls.length],
      SEND_MESSAGE,
      { input: { conversationId: conversation.id, body: BODY, clientMessageId } },
      target.authorization(sender),
    );
    const ackAt = now();
    if (res.errors?.length || !res.data) return { ackAt, error: res.errors?.[0]?.extensions?.code ?? res.errors?.[0]?.message ?? 'no data' };
    return { ackAt, sentAt: Date.parse(res.data.sendMessage.sentAt) };
  } catch (err) {
    return { ackAt: now(), error: (err as Error).message };
  }
}

export interface Liveness {
  readonly ms: number;
  /** Subscriptions that ended with an error instead (not counted as live), and a few of the errors. */
  readonly failed: number;
  readonly errorSamples: readonly string[];
}

/**
 * Waits until every subscription is live: probe rounds of one message per conversation until
 * one round reaches every subscriber (a subscription, once live, stays live). Subscriptions
 * that failed are left out when `tolerateFailures`, else they fail the wait.
 */
export async function waitUntilLive(http: GraphqlHttp, target: DeliveryTarget, pool: SubscriberPool, subscriptions: number, timeoutMs: number, tolerateFailures = false): Promise<Liveness> {
  const started = now();
  for (let round = 0; now() - started < timeoutMs; round++) {
    const prefix = `p${round}-`;
    await Promise.all(target.conversations.map((c, i) => sendMessage(http, target, i, c, c.members[0], `${prefix}${i}`)));
    const roundStarted = now();
    while (now() - roundStarted < 2_000) {
      const { receipts, errors, errorSamples } = await pool.count(prefix);
      if (errors > 0 && !tolerateFailures) throw new Error(`${errors} subscription errors while waiting for the subscriptions to be live: ${errorSamples.join('; ')}`);
      if (receipts >= subscriptions - errors) {
        await pool.collect('p');
        return { ms: now() - started, failed: errors, errorSamples };
      }
      await sleep(100);
    }
  }
  throw new Error(`Not every one of ${subscriptions} subscriptions was live after ${timeoutMs} ms`);
}

/** The same limits for Parley and the bare server, so that their figures compare. */
export const DELIVERY_LIMITS = { deadlineMs: 10_000, maxInFlight: 5_000 } as const;

export interface DeliveryOptions {
  readonly label: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** After the last send, how long a message may take to reach everyone before it counts as lost. */
  readonly deadlineMs: number;
  readonly maxInFlight: number;
  readonly subscribersPerConversation: number;
  /** Called after the warm-up, before the measured window (e.g. until the system has worked off its backlog). */
  readonly settle?: () => Promise<void>;
  /** When the projector's change notification for a clientMessageId was seen on Redis (Parley only). */
  readonly notifiedAt?: ReadonlyMap<string, number>;
  /** Processes whose CPU use over the measured window is reported. */
  readonly pids?: Record<string, number>;
}

/** What an open-loop window of sendMessage mutations did (the delivery and command scenarios). */
export interface SendWindow {
  readonly rate: number;
  readonly durationMs: number;
  readonly offered: number;
  readonly sent: number;
  /** Sends the generator could not start (too many in flight): counted as errors. */
  readonly skipped: number;
  readonly mutationErrors: number;
  readonly errorSamples: readonly string[];
}

export interface DeliveryResult extends SendWindow {
  readonly expectedReceipts: number;
  readonly receipts: number;
  /** (message, subscriber) pairs not received within the deadline. */
  readonly lost: number;
  /** skipped + mutationErrors + lost */
  readonly errors: number;
  readonly achievedRate: number;
  /** From the scheduled send (client clock) to the receipt by a subscriber, per (message, subscriber), ms. */
  readonly latency: Distribution;
  /** From the scheduled send to the mutation's reply (the event is durable in the log), ms. */
  readonly mutation: Distribution;
  readonly generatorLateness: Distribution;
  /** Per hop of the path, ms (Parley only, with notifiedAt). */
  readonly stages?: Record<string, Distribution>;
  /** CPU use per process over the measured window (sending and delivery), % of one core. */
  readonly cpuPercent: Record<string, number>;
  /** The same in CPU ms, and the window's wall time (from the first send until every receipt or the deadline). */
  readonly cpuMs: Record<string, number>;
  readonly cpuWindowMs: number;
  /**
   * CPU ms per message acknowledged (each then delivered to its subscribers) of each process of
   * the system under test (`pids`: the apps, Kafka, Cassandra, Redis; not the generator or the
   * subscribers), and of all of them together.
   */
  readonly serverCpuMsPerMessage: { readonly perProcess: Record<string, number>; readonly all: number };
}

interface Sent {
  scheduledAt: number;
  expected: number;
  outcome?: SendOutcome;
}

/** Open-loop sends of `prefix`<i> at `rate` for `durationMs`, each by a member of conversation i mod n through instance i mod m. */
function sendAtRate(http: GraphqlHttp, target: DeliveryTarget, prefix: string, rate: number, durationMs: number, maxInFlight: number, sent: Sent[], perConversation: number) {
  const { conversations } = target;
  return openLoop({
    rate,
    durationMs,
    maxInFlight,
    operation: async (i, scheduledAt) => {
      const conversation = conversations[i % conversations.length];
      const sender = conversation.members[Math.floor(i / conversations.length) % conversation.members.length];
      const record: Sent = { scheduledAt, expected: Math.min(perConversation, conversation.members.length) };
      sent[i] = record;
      record.outcome = await sendMessage(http, target, i, conversation, sender, `${prefix}${i}`);
    },
  });
}

/**
 * Traffic that is not measured: the first seconds after start-up or after new conversations
 * are slow (connections, prepared statements, JIT, caches), and would otherwise land in the
 * first measured rate.
 */
export async function warmUp(http: GraphqlHttp, target: DeliveryTarget, pool: SubscriberPool, rate: number, durationMs: number): Promise<void> {
  await sendAtRate(http, target, `w${rate}x${Math.round(now())}-`, rate, durationMs, 5_000, [], 0);
  await sleep(1_000);
  await pool.collect('w');
}

/** Open-loop sends at `rate` (after a warm-up at the same rate, not counted), then waits for every subscriber, and measures. */
export async function measureDelivery(http: GraphqlHttp, target: DeliveryTarget, pool: SubscriberPool, options: DeliveryOptions): Promise<DeliveryResult> {
  if (options.warmupMs > 0) await warmUp(http, target, pool, options.rate, options.warmupMs);
  await options.settle?.();
  const prefix = `m${options.label}-`;
  const sent: Sent[] = [];
  const cpu = measureCpuTime({ ...options.pids, generator: process.pid, ...Object.fromEntries(pool.pids.map((pid, i) => [`subscribers-${i + 1}`, pid])) });
  const loop = await sendAtRate(http, target, prefix, options.rate, options.durationMs, options.maxInFlight, sent, options.subscribersPerConversation);
  const ok = sent.filter((s) => s.outcome && !s.outcome.error);
  const expectedReceipts = ok.reduce((n, s) => n + s.expected, 0);
  const deadline = now() + options.deadlineMs;
  while (now() < deadline && (await pool.count(prefix)).receipts < expectedReceipts) await sleep(200);
  const cpuTime = cpu();
  const receipts: Receipts = await pool.collect(prefix);

  const latency: number[] = [];
  const mutation: number[] = [];
  const stages = { apiToDecided: [] as number[], appendAndReply: [] as number[], projectAndNotify: [] as number[], notifyToSubscriber: [] as number[] };
  let received = 0;
  const errorSamples = new Set<string>();
  sent.forEach((s, i) => {
    if (!s?.outcome) return;
    if (s.outcome.error) {
      if (errorSamples.size < 5) errorSamples.add(s.outcome.error);
      return;
    }
    const id = `${prefix}${i}`;
    const times = (receipts[id] ?? []).slice(0, s.expected);
    received += times.length;
    mutation.push(s.outcome.ackAt - s.scheduledAt);
    for (const t of times) latency.push(t - s.scheduledAt);
    const notified = options.notifiedAt?.get(id);
    const sentAt = s.outcome.sentAt!;
    stages.apiToDecided.push(sentAt - s.scheduledAt);
    stages.appendAndReply.push(s.outcome.ackAt - sentAt);
    if (notified !== undefined) {
      stages.projectAndNotify.push(notified - sentAt);
      for (const t of times) stages.notifyToSubscriber.push(t - notified);
    }
  });
  const mutationErrors = sent.filter((s) => s?.outcome?.error).length;
  const lost = expectedReceipts - received;
  return {
    rate: options.rate,
    durationMs: options.durationMs,
    offered: loop.offered,
    sent: loop.started,
    skipped: loop.skipped,
    mutationErrors,
    errorSamples: [...errorSamples],
    expectedReceipts,
    receipts: received,
    lost,
    errors: loop.skipped + mutationErrors + lost,
    achievedRate: perSecond(loop.started, loop.windowMs),
    latency: distribution(latency),
    mutation: distribution(mutation),
    generatorLateness: loop.lateness,
    cpuPercent: cpuPercent(cpuTime),
    cpuMs: cpuTime.cpuMs,
    cpuWindowMs: Math.round(cpuTime.elapsedMs),
    serverCpuMsPerMessage: cpuMsPer(cpuTime.cpuMs, Object.keys(options.pids ?? {}), sent.filter((s) => s?.outcome && !s.outcome.error).length),
    ...(options.notifiedAt
      ? {
          stages: {
            [STAGES.toCommand]: distribution(stages.apiToDecided),
            [STAGES.toDurable]: distribution(stages.appendAndReply),
            [STAGES.toNotified]: distribution(stages.projectAndNotify),
            [STAGES.toSubscriber]: distribution(stages.notifyToSubscriber),
          },
        }
      : {}),
  };
}
