import type { RedisClient } from '@parley/redis';
import { randomUUID } from 'node:crypto';
import { presenceChannel } from './live/live-updates';

const TTL_MS = 30_000;


export interface PresenceView {
  readonly userId: string;
  readonly online: boolean;
  readonly lastSeenAt: string | null;
}

/**
 * Online state from sockets: each acknowledged graphql-ws connection is a field of the user's
 * hash with an expiry time, refreshed by a heartbeat; a crashed instance's fields lapse by
 * themselves. Online = at least one unexpired field on any instance.
 */
export class Presence {
  private readonly instance = randomUUID();
  private readonly open = new Map<string, string>(); // field -> userId
  private readonly heartbeat: NodeJS.Timeout;

  private readonly connectionsKey = (userId: string) => `parley:${this.namespace}:online:v1:${userId}`;
  private readonly lastSeenKey = (userId: string) => `parley:${this.namespace}:last-seen:v1:${userId}`;

  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {
    this.heartbeat = setInterval(() => void this.refresh(), TTL_MS / 3);
    this.heartbeat.unref();
  }

  async connected(userId: string): Promise<string> {
    const field = `${this.instance}:${randomUUID()}`;
    this.open.set(field, userId);
    await this.redis.multi().hset(this.connectionsKey(userId), field, String(Date.now() + TTL_MS)).pexpire(this.connectionsKey(userId), TTL_MS * 2).exec();
    await this.announce(userId);
    return field;
  }

  async disconnected(field: string): Promise<void> {
    const userId = this.open.get(field);
    if (!userId) return;
    this.open.delete(field);
    await this.redis.multi().hdel(this.connectionsKey(userId), field).set(this.lastSeenKey(userId), new Date().toISOString()).exec();
    await this.announce(userId);
  }

  /** Tells every API instance (presenceChanged subscribers) the user's presence now. */
  private async announce(userId: string): Promise<void> {
    const [view] = await this.of([userId]);
    await this.redis.publish(presenceChannel(this.namespace), JSON.stringify(view));
  }

  private async refresh(): Promise<void> {
    const tx = this.redis.multi();
    for (const [field, userId] of this.open) {
      tx.hset(this.connectionsKey(userId), field, String(Date.now() + TTL_MS)).pexpire(this.connectionsKey(userId), TTL_MS * 2);
    }
    await tx.exec().catch(() => undefined);
  }

  /** The user's live sockets on every instance (those whose heartbeat has not lapsed). */
  async socketCount(userId: string): Promise<number> {
    const now = Date.now();
    return (await this.redis.hvals(this.connectionsKey(userId))).filter((expiry) => Number(expiry) > now).length;
  }

  async of(userIds: readonly string[]): Promise<PresenceView[]> {
    const now = Date.now();
    const tx = this.redis.multi();
    for (const id of userIds) tx.hvals(this.connectionsKey(id)).get(this.lastSeenKey(id));
    const results = (await tx.exec()) ?? [];
    return userIds.map((userId, i) => {
      const expiries = (results[i * 2]?.[1] as string[] | null) ?? [];
      const lastSeen = (results[i * 2 + 1]?.[1] as string | null) ?? null;
      const online = expiries.some((e) => Number(e) > now);
      return { userId, online, lastSeenAt: online ? new Date(now).toISOString() : lastSeen };
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const field of [...this.open.keys()]) await this.disconnected(field).catch(() => undefined);
  }
}
