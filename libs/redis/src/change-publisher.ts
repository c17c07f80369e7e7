import type { Change } from '@parley/projections';
import type { RedisClient } from './redis-client';

/** The channel API instances subscribe to for live updates (namespace: the events topic). */
export const changesChannel = (namespace: string) => `parley:${namespace}:changes:v1`;

export interface ChangeNotification {
  readonly projection: string;
  readonly version: number;
  readonly partition: number;
  /** Everything in this partition below this offset is readable in the projection now. */
  readonly nextOffset: string;
  readonly changes: readonly Change[];
}

export class RedisChangePublisher {
  constructor(
    private readonly redis: RedisClient,
    private readonly namespace: string,
  ) {}

  async publish(notification: ChangeNotification): Promise<void> {
    await this.redis.publish(changesChannel(this.namespace), JSON.stringify(notification));
  }
}
