import type { ProjectionRun, ProjectionState } from '@parley/cassandra';
import type { EventBatch, EventConsumer, EventLog, PartitionOffsets, RecordedEvent } from '@parley/event-log';
import type { Change, Projection } from '@parley/projections';
import { Logger } from '@nestjs/common';

export interface RunnerDeps {
  readonly log: EventLog;
  readonly chunkSize: number;
  readonly isTransient: (err: unknown) => boolean;
  readonly publish: (projection: Projection, partition: number, nextOffset: string, changes: Change[]) => Promise<void>;
  readonly onStatus: (status: ProjectionRun) => Promise<void>;
}

/** Serving: the version reads come from, publishing its changes. Rebuilding: a new version built beside it, silent until it takes over. */
export type RunnerRole = 'serving' | 'rebuilding';

const MAX_ATTEMPTS_FOR_OTHER_ERRORS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describeEvent = (e: RecordedEvent) =>
  `${e.event.type} ${e.metadata.eventId} at partition ${e.position.partition} offset ${e.position.offset}`;

/**
 * Feeds one projection from its checkpoint onwards, in chunks, each applied then checkpointed
 * by the projection. Transient storage faults are retried with backoff for as long as they
 * last; any other error is retried a few times, then the projection stops as FAILED naming
 * the event it could not apply (never a silent skip).
 */
export class ProjectionRunner {
  private readonly logger: Logger;
  private consumer?: EventConsumer;
  private state: ProjectionState;
  private error: string | null = null;
  private eventsProcessed = 0;
  private readonly applied = new Map<number, bigint>();
  private readonly ends = new Map<number, bigint>();
  private lastAppliedAt = 0;
  private readonly startedAt = new Date();
  private lastStatusWrite = 0;
  private publishing: boolean;

  constructor(
    readonly projection: Projection,
    private readonly deps: RunnerDeps,
    role: RunnerRole = 'serving',
  ) {
    this.logger = new Logger(`projection:${projection.name}:v${projection.version}`);
    this.state = role === 'serving' ? 'LIVE' : 'REBUILDING';
    this.publishing = role === 'serving';
  }

  /** A rebuilt version starts publishing its changes (before it takes over, so no change goes unannounced). */
  startPublishing(): void {
    this.publishing = true;
  }

  /** The rebuilt version now serves reads. */
  promote(): void {
    this.publishing = true;
    if (this.state === 'REBUILDING') this.state = 'LIVE';
    void this.saveStatus(true);
  }

  get failed(): boolean {
    return this.state === 'FAILED';
  }

  /** Next offset to apply, per partition. */
  appliedOffsets(): PartitionOffsets {
    return new Map([...this.applied].map(([p, offset]) => [p, offset.toString()]));
  }

  async start(): Promise<void> {
    await this.projection.createStorage();
    const checkpoints = await this.projection.checkpoints();
    const from = new Map<number, string>();
    for (let p = 0; p < this.deps.log.partitionCount; p++) {
      from.set(p, checkpoints.get(p) ?? '0');
      this.applied.set(p, BigInt(from.get(p)!));
    }
    this.consumer = await this.deps.log.consume({ from }, (batch) => this.onBatch(batch));
    this.consumer.done.catch((err: unknown) => this.fail(`reading the event log: ${(err as Error).message}`));
    await this.saveStatus(true);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  status(): ProjectionRun {
    let lagEvents = 0n;
    let ends = 0n;
    let applied = 0n;
    for (const [p, end] of this.ends) {
      const at = this.applied.get(p) ?? 0n;
      if (end > at) lagEvents += end - at;
      ends += end;
      applied += at < end ? at : end;
    }
    return {
      name: this.projection.name,
      version: this.projection.version,
      state: this.state,
      eventsProcessed: this.eventsProcessed,
      lagEvents: Number(lagEvents),
      // Approximation: the age of the last applied event while behind (no read of the next one).
      lagSeconds: lagEvents > 0n && this.lastAppliedAt > 0 ? Math.max(0, (Date.now() - this.lastAppliedAt) / 1000) : 0,
      progress: ends === 0n ? 1 : Number(applied) / Number(ends),
      error: this.error,
      startedAt: this.startedAt,
      updatedAt: new Date(),
    };
  }

  /** Events not yet applied, against the log's current end offsets. */
  async lagEvents(): Promise<number> {
    await this.refreshEnds();
    return this.status().lagEvents;
  }

  /** Lag against the log's current end offsets (not only what the consumer has fetched). */
  async refreshEnds(): Promise<void> {
    for (const [p, end] of await this.deps.log.endOffsets()) this.ends.set(p, BigInt(end));
  }

  private async onBatch(batch: EventBatch): Promise<void> {
    if (this.state === 'FAILED') return;
    const end = BigInt(batch.highWatermark);
    if (end > (this.ends.get(batch.partition) ?? 0n)) this.ends.set(batch.partition, end);
    const relevant = batch.events.filter((e) => this.projection.handles.has(e.event.type as never));
    // Chunks end where the next begins; the last one checkpoints the batch's end (irrelevant events included).
    for (let i = 0; i === 0 || i < relevant.length; i += this.deps.chunkSize) {
      const chunk = relevant.slice(i, i + this.deps.chunkSize);
      const next = relevant[i + this.deps.chunkSize];
      const nextOffset = next ? next.position.offset : batch.nextOffset;
      if (!(await this.applyChunk(batch.partition, chunk, nextOffset))) return;
    }
    this.eventsProcessed += batch.events.length - relevant.length;
    // Every event of the batch is behind us now, handled or not (presence skips most of them).
    const last = batch.events.at(-1);
    if (last) this.lastAppliedAt = Date.parse(last.metadata.occurredAt);
    await this.saveStatus(false);
  }

  private async applyChunk(partition: number, events: RecordedEvent[], nextOffset: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        const changes = await this.projection.apply(partition, events, nextOffset);
        this.applied.set(partition, BigInt(nextOffset));
        this.eventsProcessed += events.length;
        if (this.error) this.error = null;
        if (changes.length > 0 && this.publishing) {
          await this.deps.publish(this.projection, partition, nextOffset, changes).catch((err: unknown) =>
            this.logger.warn(`Could not publish changes: ${(err as Error).message}`),
          );
        }
        return true;
      } catch (err) {
        this.projection.reset(); // cached state may be ahead of storage now
        const reason = (err as Error)?.message ?? String(err);
        if (this.deps.isTransient(err)) {
          this.error = `retrying after a storage fault (attempt ${attempt}): ${reason}`;
          this.logger.warn(this.error);
          await this.saveStatus(true);
          await sleep(Math.min(100 * 2 ** attempt, 5_000));
          continue;
        }
        if (attempt < MAX_ATTEMPTS_FOR_OTHER_ERRORS) {
          await sleep(100 * 2 ** attempt);
          continue;
        }
        return this.isolatePoisonEvent(partition, events, nextOffset, reason);
      }
    }
  }

  /** Applies the chunk one event at a time to find, and name, the event that cannot be applied. */
  private async isolatePoisonEvent(partition: number, events: RecordedEvent[], nextOffset: string, reason: string): Promise<boolean> {
    for (let i = 0; i < events.length; i++) {
      const end = events[i + 1]?.position.offset ?? nextOffset;
      try {
        await this.projection.apply(partition, [events[i]], end);
        this.applied.set(partition, BigInt(end));
        this.eventsProcessed++;
      } catch (err) {
        this.projection.reset();
        await this.fail(`cannot apply ${describeEvent(events[i])}: ${(err as Error)?.message ?? String(err)}`);
        return false;
      }
    }
    await this.fail(`the chunk ending before offset ${nextOffset} of partition ${partition} failed as a whole (${reason}) but each event applied alone`);
    return false;
  }

  private async fail(error: string): Promise<void> {
    if (this.state === 'FAILED') return;
    this.state = 'FAILED';
    this.error = error;
    this.logger.error(`FAILED: ${error}`);
    await this.saveStatus(true);
    void this.consumer?.stop();
  }

  private async saveStatus(force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastStatusWrite < 1_000) return;
    this.lastStatusWrite = now;
    await this.deps.onStatus(this.status()).catch((err: unknown) => this.logger.warn(`Could not save status: ${(err as Error).message}`));
  }
}
