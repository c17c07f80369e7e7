import type { ProjectionRun, ProjectionState } from '@parley/cassandra';
import type { EventBatch, EventLog, PartitionHeld, PartitionOffsets, RecordedEvent } from '@parley/event-log';
import type { Change, Projection } from '@parley/projections';
import { Logger } from '@nestjs/common';

export interface RunnerDeps {
  readonly log: EventLog;
  readonly chunkSize: number;
  readonly isTransient: (err: unknown) => boolean;
  readonly publish: (projection: Projection, partition: number, nextOffset: string, changes: Change[]) => Promise<void>;
  readonly onStatus: (status: ProjectionRun) => Promise<void>;
  /**
   * A rebuild's serving version's checkpoints: a rebuild announces a chunk that reaches past
   * them, since the serving version has not announced those events yet (docs/adr/0011).
   */
  readonly servingCheckpoints?: () => Promise<PartitionOffsets>;
}

/** Serving: the version reads come from, publishing its changes. Rebuilding: a new version built beside it, silent until it takes over. */
export type RunnerRole = 'serving' | 'rebuilding';

const MAX_ATTEMPTS_FOR_OTHER_ERRORS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describeEvent = (e: RecordedEvent) =>
  `${e.event.type} ${e.metadata.eventId} at partition ${e.position.partition} offset ${e.position.offset}`;

/** How long a rebuild trusts the serving version's checkpoints it read (older ones only make it announce more). */
const SERVING_CHECKPOINTS_TTL_MS = 1_000;

/**
 * Applies one projection's share of the log (the partitions its feed holds) from its own
 * checkpoints onwards, in chunks, each applied then checkpointed by the projection. Transient
 * storage faults are retried with backoff for as long as they last; any other error is retried
 * a few times, then the projection stops as FAILED naming the event it could not apply (never
 * a silent skip). A partition this instance no longer holds is abandoned between chunks.
 */
export class ProjectionRunner {
  private readonly logger: Logger;
  private state: ProjectionState;
  private error: string | null = null;
  private eventsProcessed = 0;
  /** Next offset to apply, per partition this instance holds. */
  private readonly applied = new Map<number, bigint>();
  /** The stored checkpoints of the partitions other instances hold, as last read (for status). */
  private readonly elsewhere = new Map<number, bigint>();
  private readonly ends = new Map<number, bigint>();
  private serving?: { readonly offsets: PartitionOffsets; readonly at: number };
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

  /** The rebuilt version now serves reads. */
  async promote(): Promise<void> {
    this.publishing = true;
    if (this.state === 'REBUILDING') this.state = 'LIVE';
    await this.saveStatus(true);
  }

  get failed(): boolean {
    return this.state === 'FAILED';
  }

  /** Next offset to apply, per partition this instance holds. */
  appliedOffsets(): PartitionOffsets {
    return new Map([...this.applied].map(([p, offset]) => [p, offset.toString()]));
  }

  async start(): Promise<void> {
    await this.projection.createStorage();
    await this.saveStatus(true);
  }

  /**
   * This instance now holds these partitions (any other partition may be applied elsewhere
   * since): forgets what the projection cached, since another instance may have applied since,
   * and resolves with its checkpoints, where it continues.
   */
  async assign(partitions: readonly number[]): Promise<PartitionOffsets> {
    this.projection.reset();
    const stored = await this.retrying('reading the checkpoints', () => this.projection.checkpoints());
    this.applied.clear();
    this.elsewhere.clear();
    for (let p = 0; p < this.deps.log.partitionCount; p++) {
      (partitions.includes(p) ? this.applied : this.elsewhere).set(p, BigInt(stored.get(p) ?? '0'));
    }
    return this.appliedOffsets();
  }

  status(): ProjectionRun {
    let lagEvents = 0n;
    let ends = 0n;
    let applied = 0n;
    for (const [p, end] of this.ends) {
      const at = this.applied.get(p) ?? this.elsewhere.get(p) ?? 0n;
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

  /** Lag against the log's current end offsets (not only what the consumer has fetched). */
  async refreshEnds(): Promise<void> {
    for (const [p, end] of await this.deps.log.endOffsets()) this.ends.set(p, BigInt(end));
  }

  /**
   * Applies a batch of a partition this instance holds. The feed reads each partition from the
   * checkpoint of the projection furthest behind: events before this one's own are skipped.
   */
  async handle(batch: EventBatch, held: PartitionHeld): Promise<void> {
    const from = this.applied.get(batch.partition);
    if (this.state === 'FAILED' || from === undefined || BigInt(batch.nextOffset) <= from) return;
    const end = BigInt(batch.highWatermark);
    if (end > (this.ends.get(batch.partition) ?? 0n)) this.ends.set(batch.partition, end);
    const unapplied = batch.events.filter((e) => BigInt(e.position.offset) >= from);
    const relevant = unapplied.filter((e) => this.projection.handles.has(e.event.type as never));
    // Chunks end where the next begins; the last one checkpoints the batch's end (irrelevant events included).
    for (let i = 0; i === 0 || i < relevant.length; i += this.deps.chunkSize) {
      if (!(await held())) return; // the partition may be applied elsewhere now: the next holder continues from the checkpoint
      const chunk = relevant.slice(i, i + this.deps.chunkSize);
      const next = relevant[i + this.deps.chunkSize];
      const nextOffset = next ? next.position.offset : batch.nextOffset;
      if (!(await this.applyChunk(batch.partition, chunk, nextOffset, held))) return;
    }
    this.eventsProcessed += unapplied.length - relevant.length;
    // Every event of the batch is behind us now, handled or not (presence skips most of them).
    const last = batch.events.at(-1);
    if (last) this.lastAppliedAt = Date.parse(last.metadata.occurredAt);
    await this.saveStatus(false);
  }

  private async applyChunk(partition: number, events: RecordedEvent[], nextOffset: string, held: PartitionHeld): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && !(await held())) return false;
      try {
        const changes = await this.projection.apply(partition, events, nextOffset);
        this.applied.set(partition, BigInt(nextOffset));
        this.eventsProcessed += events.length;
        if (this.error) this.error = null;
        if (changes.length > 0 && (await this.announces(partition, nextOffset))) {
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

  /** Serving versions announce every change; a rebuild those past its serving version's checkpoint (docs/adr/0011). */
  private async announces(partition: number, nextOffset: string): Promise<boolean> {
    if (this.publishing || !this.deps.servingCheckpoints) return this.publishing;
    if (!this.serving || Date.now() - this.serving.at > SERVING_CHECKPOINTS_TTL_MS) {
      const offsets = await this.deps.servingCheckpoints().catch(() => new Map<number, string>()); // unknown: announce
      this.serving = { offsets, at: Date.now() };
    }
    return BigInt(nextOffset) > BigInt(this.serving.offsets.get(partition) ?? '0');
  }

  /** Stops applying, FAILED with the reason (the feed goes on for the other projections). */
  async fail(error: string): Promise<void> {
    if (this.state === 'FAILED') return;
    this.state = 'FAILED';
    this.error = error;
    this.logger.error(`FAILED: ${error}`);
    await this.saveStatus(true);
  }

  /** Retries a read through storage faults, with backoff. */
  private async retrying<T>(what: string, read: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        if (!this.deps.isTransient(err)) throw err;
        this.logger.warn(`${what}: retrying after a storage fault (attempt ${attempt}): ${(err as Error).message}`);
        await sleep(Math.min(100 * 2 ** attempt, 5_000));
      }
    }
  }

  private async saveStatus(force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastStatusWrite < 1_000) return;
    this.lastStatusWrite = now;
    // Lag and progress cover every partition: the others' from their stored checkpoints.
    await Promise.all([this.refreshEnds(), this.refreshElsewhere()]).catch(() => undefined);
    await this.deps.onStatus(this.status()).catch((err: unknown) => this.logger.warn(`Could not save status: ${(err as Error).message}`));
  }

  private async refreshElsewhere(): Promise<void> {
    if (this.elsewhere.size === 0) return;
    const stored = await this.projection.checkpoints();
    for (const p of this.elsewhere.keys()) this.elsewhere.set(p, BigInt(stored.get(p) ?? '0'));
  }
}
