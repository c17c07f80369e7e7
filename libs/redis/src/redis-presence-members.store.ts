import type { PartitionOffsets } from '@parley/event-log';
import type { MembershipChange, PresenceMembersStore } from '@parley/projections';
import type { RedisClient } from './redis-client';

/**
 * Key layout of the presence projection; the API reads the member sets with the same names.
 * `namespace` is the events topic the view is built from, so deployments (and tests) that share
 * a Redis never share a view or its checkpoint.
 */
export const presenceKeys = (namespace: string, version: number) => ({
  members: (conversationId: string) => `parley:${namespace}:presence:v${version}:members:${conversationId}`,
  checkpoint: `parley:${namespace}:presence:v${version}:checkpoint`,
  pattern: `parley:${namespace}:presence:v${version}:*`,
});

/** Member sets in Redis; data and checkpoint change in one MULTI/EXEC transaction. */
export class RedisPresenceMembersStore implements PresenceMembersStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {}

  async apply(version: number, changes: readonly MembershipChange[], partition: number, nextOffset: string): Promise<void> {
    const keys = presenceKeys(this.namespace, version);
    const tx = this.redis.multi();
    for (const { conversationId, userId, member } of changes) {
      if (member) tx.sadd(keys.members(conversationId), userId);
      else tx.srem(keys.members(conversationId), userId);
    }
    tx.hset(keys.checkpoint, String(partition), nextOffset);
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction was aborted');
  }

  async checkpoints(version: number): Promise<PartitionOffsets> {
    const all = await this.redis.hgetall(presenceKeys(this.namespace, version).checkpoint);
    return new Map(Object.entries(all).map(([partition, offset]) => [Number(partition), offset]));
  }

  async members(version: number, conversationId: string): Promise<string[]> {
    return (await this.redis.smembers(presenceKeys(this.namespace, version).members(conversationId))).sort();
  }

  async drop(version: number): Promise<void> {
    const stream = this.redis.scanStream({ match: presenceKeys(this.namespace, version).pattern, count: 500 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await this.redis.unlink(...keys);
  }
}

/** Connection-level Redis failures (worth retrying), as opposed to command errors. */
export function isTransientRedisError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code ?? '') ||
    /Connection is closed|MaxRetriesPerRequestError|LOADING/.test(String((err as Error)?.message))
  );
}
