import type { ConversationCommand } from '@parley/domain';
import { EVENT_LOG, type EventLog, type PartitionAppender, type PartitionOwnership } from '@parley/event-log';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { CommandServiceConfig } from '../command-service.config';
import { UnavailableError } from '../grpc/grpc-errors';
import { LIVE_LANE, type LiveLane } from '../live/live-lane';
import { OLDER_MESSAGES, type OlderMessages } from '../read-model/older-messages';
import { CONVERSATION_SNAPSHOTS, type ConversationSnapshots, type PartitionCheckpoint } from '../snapshots/conversation-snapshots';
import { PartitionWriter, type CommandMetadata, type Decision, type Retention } from './partition-writer';
import { within } from './within';

const ownedPartitions = new Gauge({ name: 'parley_command_owned_partitions', help: 'Partitions of the events topic this instance writes' });

const ANNOUNCED_THROUGH_TIMEOUT_MS = 1_000;
/** A checkpoint not read within this is not waited for: the partition is read from its start. */
const CHECKPOINT_READ_TIMEOUT_MS = 3_000;

/** Where a command goes: decided here, or sent to the instance that owns its partition. */
export type Route = { readonly local: true } | { readonly local: false; readonly owner: string };

/**
 * This instance's share of the partitions (docs/adr/0008): a member of the writers' group over
 * the events topic. Each rebalance replaces the set of partition writers; each new writer reads
 * its partition before deciding. Commands for partitions owned elsewhere are routed to their
 * owner by its published address.
 */
@Injectable()
export class PartitionWriters implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PartitionWriters.name);
  private readonly retention: Retention;
  private writers = new Map<number, PartitionWriter>();
  /** Set before the group is joined: the first assignment arrives while joining. */
  private ownership?: Promise<PartitionOwnership>;
  private owners?: Promise<ReadonlyMap<number, string>>;
  private assignmentWaiters: Array<() => void> = [];
  private readyWaiters: Array<() => void> = [];
  private assignedOnce = false;
  /** Set at shutdown: a retry scheduled before must not reconnect anything. */
  private stopped = false;
  private checkpoints?: NodeJS.Timeout;

  constructor(
    @Inject(EVENT_LOG) private readonly log: EventLog,
    private readonly config: CommandServiceConfig,
    @Inject(OLDER_MESSAGES) private readonly older: OlderMessages,
    @Inject(LIVE_LANE) private readonly lane: LiveLane,
    @Inject(CONVERSATION_SNAPSHOTS) snapshots: ConversationSnapshots,
  ) {
    this.retention = {
      snapshots,
      maxConversations: config.maxConversationsPerPartition,
      failed: (what, err) => this.logger.warn(`${what} failed: ${String(err)}; trying again`),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    const firstAssignment = this.nextAssignment();
    this.ownership = this.log.own(
      { group: `${this.config.eventsTopic}.writers`, address: this.config.advertisedUrl, fencing: this.config.fencing },
      {
        assigned: (partitions) => this.assign(partitions),
        events: (batch) => this.writers.get(batch.partition)?.apply(batch),
        caughtUp: (partition, nextOffset) => this.caughtUp(partition, nextOffset),
      },
    );
    await this.ownership;
    await firstAssignment;
    this.checkpoints = setInterval(() => {
      for (const writer of this.writers.values()) void writer.checkpoint();
    }, this.config.checkpointIntervalMs);
    this.checkpoints.unref();
    const started = Date.now();
    if (!this.isReady) await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    this.logger.log(`Writing partitions [${[...this.writers.keys()].join(', ')}]: ${this.conversationCount} conversations read in ${Date.now() - started} ms`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkpoints);
    await Promise.all([...this.writers.values()].map((writer) => this.close(writer.revoke())));
    await (await this.ownership)?.stop();
    await this.lane.stop();
  }

  /**
   * True once the group has assigned this instance its partitions (maybe none: more instances
   * than partitions) and it has read all of them. An instance without partitions forwards.
   */
  get isReady(): boolean {
    return this.assignedOnce && [...this.writers.values()].every((w) => w.isReady);
  }

  /** Whether every partition's last checkpoint holds all it has (docs/adr/0016). */
  get isCheckpointed(): boolean {
    return [...this.writers.values()].every((w) => w.isCheckpointed);
  }

  get conversationCount(): number {
    return [...this.writers.values()].reduce((n, w) => n + w.conversationCount, 0);
  }

  get partitions(): number[] {
    return [...this.writers.keys()];
  }

  private assign(partitions: readonly number[]): void {
    for (const writer of this.writers.values()) void this.close(writer.revoke());
    const recovery = { reopen: (partition: number) => void this.open(partition, this.writers.get(partition)) };
    this.writers = new Map(partitions.map((p) => [p, new PartitionWriter(p, recovery, this.older, this.lane, this.retention)]));
    ownedPartitions.set(partitions.length);
    this.assignedOnce = true;
    this.owners = undefined;
    for (const [partition, writer] of this.writers) void this.open(partition, writer);
    for (const wake of this.assignmentWaiters.splice(0)) wake();
    this.wakeIfReady();
  }

  private wakeIfReady(): void {
    if (this.isReady) for (const wake of this.readyWaiters.splice(0)) wake();
  }

  /**
   * Opens the partition's appender (fencing any earlier writer of it, here or elsewhere), then
   * reads it from the log; the writer decides once it has read everything (ADR 0008).
   */
  private async open(partition: number, writer: PartitionWriter | undefined): Promise<void> {
    if (!writer || this.stopped) return;
    try {
      const ownership = await this.ownership!;
      const appender = await ownership.openAppender(partition);
      const { accepted, replaced } = this.stopped ? { accepted: false } : writer.opened(appender);
      await this.close(accepted ? replaced : appender); // not accepted: revoked meanwhile
      if (!accepted) return;
      writer.announceAgainFrom(await this.announcedThrough(partition));
      const from = writer.readFromCheckpoint(writer.readsFromCheckpoints ? await this.checkpointOf(partition) : null);
      await ownership.reread(partition, from);
    } catch (err) {
      if (this.stopped) return;
      this.logger.error(`Opening partition ${partition} failed: ${String(err)}; trying again`);
      setTimeout(() => void this.open(partition, this.writers.get(partition) === writer ? writer : undefined), 1_000).unref();
    }
  }

  /** The partition's last checkpoint (docs/adr/0016); none (a read from the start) if Cassandra does not say in time. */
  private checkpointOf(partition: number): Promise<PartitionCheckpoint | null> {
    return within(this.retention.snapshots.loadCheckpoint(partition), CHECKPOINT_READ_TIMEOUT_MS).catch((err: unknown) => {
      this.logger.warn(`Partition ${partition}: its checkpoint could not be read (${String(err)}); reading it from the start`);
      return null;
    });
  }

  /** Where the previous writer's announcements stopped; unknown (nothing re-announced) if Redis does not say at once. */
  private async announcedThrough(partition: number): Promise<bigint | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ANNOUNCED_THROUGH_TIMEOUT_MS)));
    try {
      return await Promise.race([this.lane.publishedThrough(partition), timeout]);
    } catch (err) {
      this.logger.warn(`Partition ${partition}: where the live lane stopped is unknown (${String(err)}); nothing is announced again`);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  private caughtUp(partition: number, nextOffset: bigint): void {
    this.writers.get(partition)?.caughtUp(nextOffset);
    this.wakeIfReady();
  }

  private async close(appender: PartitionAppender | undefined): Promise<void> {
    await appender?.close().catch((err: unknown) => this.logger.warn(`Closing an appender: ${String(err)}`));
  }

  /** Whether this instance writes the conversation's partition. */
  owns(conversationId: string): boolean {
    return this.writers.has(this.log.partitionFor(conversationId));
  }

  /** Decides a command of a partition this instance owns. */
  decide(command: ConversationCommand, metadata: CommandMetadata): Promise<Decision> {
    return this.writerOf(command.data.conversationId).decide(command, metadata, this.config.commandTimeoutMs);
  }

  /** A user's membership as the partition's writer holds it (see PartitionWriter.membership). */
  membership(conversationId: string, userId: string): Promise<string | null> {
    return this.writerOf(conversationId).membership(conversationId, userId, this.config.commandTimeoutMs);
  }

  /** The writer of the conversation's partition, here; UNAVAILABLE when this instance does not own it. */
  private writerOf(conversationId: string): PartitionWriter {
    const writer = this.writers.get(this.log.partitionFor(conversationId));
    if (!writer) throw new UnavailableError('this instance does not own the partition of the conversation (it moved); retry');
    return writer;
  }

  /**
   * Where the conversation's commands are decided. While the group rebalances, nobody owns the
   * partition for a moment: wait for the next assignment, up to the command timeout.
   */
  async route(conversationId: string): Promise<Route> {
    const partition = this.log.partitionFor(conversationId);
    const deadline = Date.now() + this.config.commandTimeoutMs;
    for (;;) {
      if (this.writers.has(partition)) return { local: true };
      const owner = (await this.ownersNow()).get(partition);
      if (owner !== undefined && owner !== this.config.advertisedUrl) return { local: false, owner };
      this.owners = undefined;
      if (Date.now() >= deadline) throw new UnavailableError(`no command-service instance owns partition ${partition} yet (rebalancing); retry`);
      await Promise.race([this.nextAssignment(), new Promise((resolve) => setTimeout(resolve, 200))]);
    }
  }

  /** Forget the routing table (a forwarded command found the owner gone). */
  forgetOwners(): void {
    this.owners = undefined;
  }

  private ownersNow(): Promise<ReadonlyMap<number, string>> {
    this.owners ??= this.ownership!.then((ownership) => ownership.owners()).catch((err: unknown) => {
      this.owners = undefined;
      throw new UnavailableError(`could not read the owners of the partitions: ${String(err)}`);
    });
    return this.owners;
  }

  private nextAssignment(): Promise<void> {
    return new Promise((resolve) => this.assignmentWaiters.push(resolve));
  }
}
