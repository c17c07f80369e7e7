import type { Change } from '@parley/projections';
import type { RedisClient } from './redis-client';

/** The channel API instances subscribe to for live updates. */
export const CHANGES_CHANNEL = 'parley:changes:v1';

export interface ChangeNotification {
  readonly projection: string;
  readonly version: number;
  readonly partition: number;
  /** Everything in this partition below this offset is readable in the projection now. */
  readonly nextOffset: string;
  readonly changes: readonly Change[];
}

export class RedisChangePublisher {
  constructor(private readonly redis: RedisClient) {}

  async publish(notification: ChangeNotification): Promise<void> {
    await this.redis.publish(CHANGES_CHANNEL, JSON.stringify(notification));
  }
}
