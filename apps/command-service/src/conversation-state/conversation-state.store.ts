import { evolveConversation, initialConversationState, type ConversationEvent, type ConversationState, type LogPosition } from '@parley/domain';
import { EVENT_LOG, type EventConsumer, type EventLog, type PartitionOffsets } from '@parley/event-log';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandServiceConfig } from '../command-service.config';
import { UnavailableError } from '../grpc/grpc-errors';

async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnavailableError(`timed out after ${ms} ms ${what}`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface Waiter {
  readonly partition: number;
  readonly offset: bigint;
  readonly resolve: () => void;
}

/**
 * The state each command is decided on, kept by following the whole log (docs/adr/0004).
 * Before deciding, a command waits until this instance has applied its partition up to the
 * high-water mark read after the command arrived, so a join appended by another instance
 * a moment ago is seen by a send arriving here now.
 */
@Injectable()
export class ConversationStateStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConversationStateStore.name);
  private readonly states = new Map<string, ConversationState>();
  private readonly applied = new Map<number, bigint>();
  private waiters: Waiter[] = [];
  private consumer?: EventConsumer;
  private pendingEnds?: Promise<PartitionOffsets>;
  private queuedEnds?: Promise<PartitionOffsets>;
  private readonly locks = new Map<string, Promise<unknown>>();

  /** True once caught up at start, false again if following the log failed. */
  isFollowing = false;

  constructor(
    @Inject(EVENT_LOG) private readonly log: EventLog,
    private readonly config: CommandServiceConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  /** Starts following the log and resolves once every partition is applied up to its current end. */
  async start(): Promise<void> {
    const ends = await this.log.endOffsets();
    this.consumer = await this.log.consume({ from: 'earliest' }, async (batch) => {
      const applied = this.applied.get(batch.partition) ?? 0n;
      for (const recorded of batch.events) {
        if (BigInt(recorded.position.offset) < applied) continue; // this instance's own append, applied already (applyOwn)
        this.evolve(recorded.conversationId, recorded.event, recorded.position);
      }
      if (BigInt(batch.nextOffset) > applied) this.applied.set(batch.partition, BigInt(batch.nextOffset));
      this.release();
    });
    this.consumer.done.catch((err: unknown) => {
      this.isFollowing = false;
      this.logger.error(`Following the event log failed: ${String(err)}`);
    });
    await Promise.all([...ends].map(([partition, end]) => this.appliedUpTo(partition, BigInt(end))));
    this.isFollowing = true;
    this.logger.log(`Caught up with the log: ${this.states.size} conversations`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  get conversationCount(): number {
    return this.states.size;
  }

  /**
   * Runs `work` with the conversation's up-to-date state, one command per conversation at a
   * time on this instance (two concurrent retries must not both append).
   */
  async withState<T>(conversationId: string, work: (state: ConversationState) => Promise<T>): Promise<T> {
    const previous = this.locks.get(conversationId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const partition = this.log.partitionFor(conversationId);
      await withDeadline(
        this.endOffsets().then((ends) => this.appliedUpTo(partition, BigInt(ends.get(partition) ?? '0'))),
        this.config.commandTimeoutMs,
        `catching up with partition ${partition} of the event log`,
      );
      return work(this.states.get(conversationId) ?? initialConversationState());
    });
    this.locks.set(conversationId, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(conversationId) === run) this.locks.delete(conversationId);
    }
  }

  private evolve(conversationId: string, event: ConversationEvent, position: LogPosition): void {
    this.states.set(conversationId, evolveConversation(this.states.get(conversationId) ?? initialConversationState(), event, position));
  }

  /**
   * Applies events this instance has just appended, without waiting for the follower to read
   * them back, when they directly follow what the follower has applied (nothing else is
   * between). The next command on the partition then waits only for the high-water-mark read,
   * not for a fetch round trip. The follower skips them when it reaches them. Events of other
   * writers before them (not yet read) leave the follower in charge, as before.
   */
  applyOwn(conversationId: string, events: readonly ConversationEvent[], positions: readonly LogPosition[]): void {
    if (events.length === 0) return;
    const partition = positions[0].partition;
    const first = BigInt(positions[0].offset);
    const contiguous = positions.every((p, i) => p.partition === partition && BigInt(p.offset) === first + BigInt(i));
    if (!contiguous || (this.applied.get(partition) ?? 0n) !== first) return;
    events.forEach((event, i) => this.evolve(conversationId, event, positions[i]));
    this.applied.set(partition, first + BigInt(events.length));
    this.release();
  }

  /** Waits until the follower has applied `partition` below `offset` (bounded by the caller's deadline). */
  private appliedUpTo(partition: number, offset: bigint): Promise<void> {
    if ((this.applied.get(partition) ?? 0n) >= offset || offset === 0n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ partition, offset, resolve }));
  }

  private release(): void {
    this.waiters = this.waiters.filter((w) => {
      if ((this.applied.get(w.partition) ?? 0n) < w.offset) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * The high-water marks, read after the caller arrived. Concurrent callers share one request:
   * a caller arriving while a request is in flight waits for the next one (which starts after it).
   */
  private endOffsets(): Promise<PartitionOffsets> {
    if (!this.pendingEnds) {
      this.pendingEnds = this.log.endOffsets().finally(() => (this.pendingEnds = undefined));
      return this.pendingEnds;
    }
    if (!this.queuedEnds) {
      this.queuedEnds = this.pendingEnds
        .catch(() => undefined)
        .then(() => {
          this.queuedEnds = undefined;
          return this.endOffsets();
        });
    }
    return this.queuedEnds;
  }
}
