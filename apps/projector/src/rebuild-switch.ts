import type { PartitionOffsets } from '@parley/event-log';

/** What the switch-over needs to know of a runner. */
export interface RunnerPosition {
  readonly failed: boolean;
  appliedOffsets(): PartitionOffsets;
  lagEvents(): Promise<number>;
  startPublishing(): void;
}

/** Within this many events of the log's end, a rebuild starts publishing and heads for the switch. */
export const NEAR_THE_END = 1_000;

const behind = (a: PartitionOffsets, b: PartitionOffsets) => [...b].some(([p, offset]) => BigInt(a.get(p) ?? '0') < BigInt(offset));

/**
 * When a rebuilt version may take over reads from the serving one, without readers going back
 * in time and without a live update going unannounced:
 * 1. once the rebuild is near the log's end it starts publishing its changes (duplicates with
 *    the serving version's are dropped by subscribers, which track offsets);
 * 2. it switches when it has applied at least what the serving version has (reads never go
 *    back), and the serving version has applied what the rebuild had applied silently before
 *    step 1 (those changes were announced by the serving version).
 * A FAILED serving version waits for nothing: it publishes nothing and serves stale reads.
 */
export class RebuildSwitch {
  private publishingFrom?: PartitionOffsets;

  constructor(
    private readonly serving: RunnerPosition,
    private readonly rebuild: RunnerPosition,
  ) {}

  async advance(): Promise<'wait' | 'switch'> {
    if (!this.publishingFrom) {
      if ((await this.rebuild.lagEvents()) > NEAR_THE_END) return 'wait';
      this.publishingFrom = this.rebuild.appliedOffsets();
      this.rebuild.startPublishing();
    }
    if (this.serving.failed) return 'switch';
    const serving = this.serving.appliedOffsets();
    if (behind(this.rebuild.appliedOffsets(), serving) || behind(serving, this.publishingFrom)) return 'wait';
    return 'switch';
  }
}
