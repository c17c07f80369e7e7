import type { PartitionOffsets } from '@parley/event-log';

/** What the switch-over reads: both versions' stored checkpoints and the log's end, for every partition. */
export interface VersionPositions {
  readonly serving: PartitionOffsets;
  readonly rebuild: PartitionOffsets;
  readonly ends: PartitionOffsets;
  readonly servingFailed: boolean;
}

/** A rebuild takes over only within this many events of the log's end. */
export const NEAR_THE_END = 1_000;

const at = (offsets: PartitionOffsets, partition: number) => BigInt(offsets.get(partition) ?? '0');

/**
 * Whether a rebuilt version may take over reads from the serving one, judged on the stored
 * checkpoints of every partition, so that any projector instance can decide it whichever
 * partitions it holds (docs/adr/0011): the rebuild is near the log's end, and it has committed
 * at least what the serving version has on every partition (reads never go back). No change goes
 * unannounced meanwhile: a rebuild announces every chunk reaching past the serving version's
 * checkpoint (ProjectionRunner), and subscribers drop duplicates by offset. A FAILED serving
 * version waits for nothing: it publishes nothing and serves stale reads.
 */
export function mayTakeOver({ serving, rebuild, ends, servingFailed }: VersionPositions): boolean {
  let lag = 0n;
  for (const [partition, end] of ends) {
    const applied = at(rebuild, partition);
    if (BigInt(end) > applied) lag += BigInt(end) - applied;
  }
  if (lag > NEAR_THE_END) return false;
  if (servingFailed) return true;
  return [...serving.keys()].every((partition) => at(rebuild, partition) >= at(serving, partition));
}
