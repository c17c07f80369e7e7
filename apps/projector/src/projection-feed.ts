import type { EventBatch, EventConsumer, GroupAwareEventLog, PartitionHeld, PartitionOffsets } from '@parley/event-log';
import type { ProjectionRunner } from './projection-runner';

/**
 * How long a read may wait to gather events. Each projection commits once per partition per
 * batch, so at a steady rate this bounds those commits (about 1,000 / GATHER_MS per partition
 * per second) however many messages there are; live messages do not wait for it (the writers'
 * live lane, docs/adr/0009), inbox changes and consistentWith reads by up to this much.
 */
const GATHER_MS = 50;

/**
 * One read of the log for several projections (docs/adr/0011): a member of a consumer group,
 * so projector instances share the partitions. Each batch is decoded once and handed to each
 * projection in turn; each partition is read from the checkpoint of the projection furthest
 * behind, and each projection skips what it has applied already. Offsets are not committed to
 * the log: checkpoints live with the projections' storage.
 */
export class ProjectionFeed {
  private consumer?: EventConsumer;
  private held: readonly number[] = [];

  constructor(
    private readonly log: GroupAwareEventLog,
    readonly group: string,
    readonly runners: readonly ProjectionRunner[],
  ) {}

  /** The partitions this instance holds in the group now. */
  get partitions(): readonly number[] {
    return this.held;
  }

  async start(): Promise<void> {
    this.consumer = await this.log.consumeInGroup(
      { name: this.group, assigned: (partitions) => this.assigned(partitions), gatherMs: GATHER_MS },
      (batch, held) => this.handle(batch, held),
    );
    // The log cannot be read on (an undecodable record): every projection stops, naming it.
    this.consumer.done.catch((err: unknown) => Promise.all(this.runners.map((r) => r.fail(`reading the event log: ${(err as Error).message}`))));
  }

  /** Leaves the group once the batch being applied is done; the partitions go to the other instances. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async assigned(partitions: readonly number[]): Promise<PartitionOffsets> {
    this.held = partitions;
    const live = this.runners.filter((r) => !r.failed);
    const checkpoints = await Promise.all(live.map((r) => r.assign(partitions)));
    const from = new Map<number, string>();
    for (const partition of partitions) {
      const offsets = checkpoints.map((c) => BigInt(c.get(partition) ?? '0'));
      if (offsets.length > 0) from.set(partition, offsets.reduce((a, b) => (b < a ? b : a)).toString());
    }
    return from;
  }

  private async handle(batch: EventBatch, held: PartitionHeld): Promise<void> {
    for (const runner of this.runners) {
      if (!(await held())) return;
      await runner.handle(batch, held);
    }
  }
}
