import type { RedisClient } from '@parley/redis';
import { randomUUID } from 'node:crypto';

const TTL_MS = 30_000;
const connectionsKey = (userId: string) => `parley:online:v1:${userId}`;
const lastSeenKey = (userId: string) => `parley:last-seen:v1:${userId}`;

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

  constructor(private readonly redis: RedisClient) {
    this.heartbeat = setInterval(() => void this.refresh(), TTL_MS / 3);
    this.heartbeat.unref();
  }

  async connected(userId: string): Promise<string> {
    const field = `${this.instance}:${randomUUID()}`;
    this.open.set(field, userId);
    await this.redis.multi().hset(connectionsKey(userId), field, String(Date.now() + TTL_MS)).pexpire(connectionsKey(userId), TTL_MS * 2).exec();
    return field;
  }

  async disconnected(field: string): Promise<void> {
    const userId = this.open.get(field);
    if (!userId) return;
    this.open.delete(field);
    await this.redis.multi().hdel(connectionsKey(userId), field).set(lastSeenKey(userId), new Date().toISOString()).exec();
  }

  private async refresh(): Promise<void> {
    const tx = this.redis.multi();
    for (const [field, userId] of this.open) {
      tx.hset(connectionsKey(userId), field, String(Date.now() + TTL_MS)).pexpire(connectionsKey(userId), TTL_MS * 2);
    }
    await tx.exec().catch(() => undefined);
  }

  async of(userIds: readonly string[]): Promise<PresenceView[]> {
    const now = Date.now();
    const tx = this.redis.multi();
    for (const id of userIds) tx.hvals(connectionsKey(id)).get(lastSeenKey(id));
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
