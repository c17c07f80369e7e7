import { loadConfig } from '@parley/config';
import { conversationChannel, createRedis, RedisConfig, type ConversationNotification } from '@parley/redis';
import { waitFor } from '@parley/testing';
import { now, sleep } from './clock';
import type { Conversation, DeliveryTarget } from './delivery';
import type { GraphqlHttp } from './graphql-http';
import type { SystemInfo } from './system';
import { Tokens } from './tokens';

/** createConversation takes at most this many memberIds; the rest join. */
const MAX_CREATE_MEMBERS = 999;
const CREATE = 'mutation($input: CreateConversationInput!) { createConversation(input: $input) { id } }';
const JOIN = 'mutation($id: ID!) { joinConversation(conversationId: $id) { userId } }';
const READ = 'query($id: ID!) { conversation(id: $id) { id } }';

/** Runs `task` over `items`, `concurrency` at a time. */
export async function inBatches<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += concurrency) await Promise.all(items.slice(i, i + concurrency).map((item, j) => task(item, i + j)));
}

export class ParleyClient {
  readonly tokens: Tokens;

  constructor(
    readonly system: SystemInfo,
    readonly http: GraphqlHttp,
  ) {
    this.tokens = new Tokens(system.secret);
  }

  target(conversations: readonly Conversation[]): DeliveryTarget {
    return { apiUrls: this.system.apiUrls, authorization: (user) => this.tokens.bearer(user), conversations };
  }

  /** A GROUP of `members` (the first creates it), readable through both instances. */
  async createGroup(members: readonly string[]): Promise<Conversation> {
    const [creator, ...others] = members;
    const auth = this.tokens.bearer(creator);
    const { createConversation } = await this.http.data<{ createConversation: { id: string } }>(
      this.system.apiUrls[0],
      CREATE,
      { input: { kind: 'GROUP', title: 'bench', memberIds: others.slice(0, MAX_CREATE_MEMBERS) } },
      auth,
    );
    const id = createConversation.id;
    await inBatches(others.slice(MAX_CREATE_MEMBERS), 50, (user, i) => this.http.data(this.system.apiUrls[i % 2], JOIN, { id }, this.tokens.bearer(user)));
    // Late joiners are members for subscriptions once the projections have their joins.
    if (others.length > MAX_CREATE_MEMBERS) await projectorDrained(this.system, 120_000);
    // Subscriptions check membership in the projections: wait until the conversation is readable.
    for (const url of this.system.apiUrls) {
      await waitFor('the conversation to be readable', async () => (await this.http.data<{ conversation: unknown }>(url, READ, { id }, auth)).conversation !== null, {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
    }
    return { id, members };
  }

  /** `count` groups of `size` members each, users named `${prefix}c<i>u<j>`. */
  async createGroups(prefix: string, count: number, size: number): Promise<Conversation[]> {
    const conversations: Conversation[] = [];
    await inBatches(
      Array.from({ length: count }, (_, c) => c),
      10,
      async (c) => (conversations[c] = await this.createGroup(Array.from({ length: size }, (_, j) => `${prefix}c${c}u${j}`))),
    );
    return conversations;
  }
}

/**
 * Watches the conversations' channels on Redis (what API instances subscribe to; their writers
 * publish there) and notes when each message's notification was seen: one hop of the delivery path.
 */
export async function watchNotifications(system: SystemInfo): Promise<{ notifiedAt: Map<string, number>; stop: () => Promise<void> }> {
  const redis = createRedis(loadConfig(RedisConfig, system.env), 'bench-notifications');
  const notifiedAt = new Map<string, number>();
  redis.on('pmessage', (_pattern: string, _channel: string, raw: string) => {
    const at = now();
    const notification = JSON.parse(raw) as ConversationNotification;
    if (notification.kind === 'message' && !notifiedAt.has(notification.message.clientMessageId)) notifiedAt.set(notification.message.clientMessageId, at);
  });
  await redis.psubscribe(conversationChannel(system.topic, '*'));
  return { notifiedAt, stop: async () => void (await redis.quit().catch(() => undefined)) };
}

interface ProjectionRun {
  readonly name: string;
  readonly state: string;
  readonly lagEvents: number;
  readonly lagSeconds: number;
}

/** The projector's runs (GET /projections): state and lag per projection version. */
export async function projectionRuns(system: SystemInfo): Promise<ProjectionRun[]> {
  return (await (await fetch(`${system.projectorUrl}/projections`)).json()) as ProjectionRun[];
}

/** Waits (at most `timeoutMs`) until every projection has applied the whole log: the backlog of what ran before is gone. */
export async function projectorDrained(system: SystemInfo, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    if ((await projectionRuns(system).catch(() => [])).every((r) => r.lagEvents === 0)) return;
    await sleep(250);
  }
}
