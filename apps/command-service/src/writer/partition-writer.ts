import {
  decideConversation,
  evolveConversation,
  initialConversationState,
  snapshotOf,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type CreatedConversation,
  type LogPosition,
  type SentMessage,
} from '@parley/domain';
import { FencedError, type EventBatch, type NewEvent, type PartitionAppender } from '@parley/event-log';
import { UnavailableError } from '../grpc/grpc-errors';
import type { AppendedEvent } from '../live/live-lane';
import type { OlderMessages } from '../read-model/older-messages';
import type { PartitionCheckpoint } from '../snapshots/conversation-snapshots';
import { HeldConversations, inChunks, type Retention } from './held-conversations';
import { SeenIds } from './seen-ids';
import { within } from './within';

export type { Retention } from './held-conversations';

export interface Decision {
  /** The state before the command. */
  readonly before: ConversationState;
  /** The state with the command's events applied. */
  readonly after: ConversationState;
  readonly events: readonly ConversationEvent[];
  readonly positions: readonly LogPosition[];
  /** A send's message: the new one, or the original a retry of an older one found in the read model. */
  readonly message?: SentMessage;
}

/** Who a command acts for and how to trace it. */
export interface CommandMetadata {
  readonly actorId: string;
  readonly commandId: string;
  readonly correlationId: string;
}

interface Pending {
  readonly conversationId: string;
  readonly decision: Decision;
  readonly events: readonly NewEvent[];
  readonly resolve: (decision: Decision) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * reading: the partition is being read from the log (after opening its appender); ready:
 * deciding; fenced: a newer writer took the partition over, waiting for the rebalance that
 * says so; gone: revoked.
 */
type Phase = 'reading' | 'ready' | 'fenced' | 'gone';

/** Where acknowledged events go next: the live lane (docs/adr/0009). */
export interface Announcer {
  /** An append was acknowledged: its events, in log order. */
  appended(partition: number, events: readonly AppendedEvent[]): void;
  /**
   * What comes next does not follow the last append announced: an append failed (it may be in
   * the log all the same), the writer was fenced, or it reads the partition again.
   */
  interrupted(partition: number): void;
}

/** Events read back while (re)reading a partition that a new writer announces again, at most. */
const MAX_REANNOUNCED = 10_000;

/** What the writer asks of whoever manages it when its state can no longer be trusted. */
export interface WriterRecovery {
  /** Open a new appender (fencing the old one) and read the partition again. */
  reopen(partition: number): void;
}

/**
 * The single writer of one partition (docs/adr/0008). It holds the state of the partition's
 * conversations in memory and decides every command at once, in arrival order, on that state
 * including decisions not yet acknowledged; their events go to the log together, one append in
 * flight per partition, and each command is answered when its append is acknowledged.
 *
 * A partition has no other writer, so the offset of every event appended is known when it is
 * decided (the next offset after the last one, past the previous append's commit marker):
 * decisions carry their final positions. An append that fails, or lands elsewhere than
 * predicted, leaves the state unknown: the writer fails every command decided since, forgets
 * the state and reopens the partition (a new appender, the log read again) before deciding
 * anything more. An append refused as fenced means another instance owns the partition now:
 * the writer decides nothing more.
 */
export class PartitionWriter {
  /** The conversations' states, for this reading of the partition (a new one when the state is forgotten). */
  private held: HeldConversations;
  /** While reading: a conversation restored from a snapshot taken after this offset skips its events up to it. */
  private readonly skipThrough = new Map<string, bigint>();
  /** Every event before it is acknowledged (and in the state). */
  private acked = 0n;
  /** Where the last checkpoint saved stood (-1: none yet). */
  private checkpointedThrough = -1n;
  /** The filters of `seen` from this one on changed since the last checkpoint. */
  private seenSavedFrom = 0;
  private checkpointing = false;
  /** Read from a checkpoint: any conversation not in memory may have a snapshot. */
  private readFrom?: bigint;
  /** The checkpoint read from lacked a conversation's snapshot: read the whole partition instead. */
  private checkpointBroken = false;
  private ignoreCheckpoints = false;
  private inFlightBatch: readonly Pending[] = [];
  private phase: Phase = 'reading';
  private readyWaiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private queued: Pending[] = [];
  private inFlight?: Promise<void>;
  private nextOffset = 0n;
  private appender?: PartitionAppender;
  private seen = new SeenIds();
  /** While reading: events from here on may not have been announced by the previous writer. */
  private announceFrom?: bigint;
  private unannounced: AppendedEvent[] = [];

  constructor(
    readonly partition: number,
    private readonly recovery: WriterRecovery,
    private readonly older?: OlderMessages,
    private readonly announcer?: Announcer,
    private readonly retention?: Retention,
  ) {
    this.held = new HeldConversations(retention);
  }

  get conversationCount(): number {
    return this.held.size;
  }

  get isReady(): boolean {
    return this.phase === 'ready';
  }

  /** Whether its last checkpoint holds everything it has decided or read (nothing changed since). */
  get isCheckpointed(): boolean {
    return this.phase === 'ready' && this.acked <= this.checkpointedThrough && !this.held.hasChanges && this.held.allSaved;
  }

  /** Events read back from the log while (re)reading the partition; the next batch waits for the returned promise. */
  async apply(batch: EventBatch): Promise<void> {
    if (this.phase !== 'reading') return;
    const held = this.held;
    const restored = await held.restoreAll([...new Set(batch.events.map((e) => e.conversationId).filter((id) => held.mayHaveSnapshot(id)))]);
    if (held !== this.held || this.phase !== 'reading') return;
    for (const { conversationId, event, position } of batch.events) {
      const offset = BigInt(position.offset);
      let before = held.get(conversationId);
      if (before === undefined && restored.has(conversationId)) {
        const snapshot = restored.get(conversationId)!;
        // A snapshot holds the conversation's events up to its offset (maybe past this one: an earlier writer's).
        if (snapshot) this.skipThrough.set(conversationId, snapshot.lastOffset);
        else if (this.readFrom !== undefined && event.type !== 'ConversationCreated') this.checkpointBroken = true;
        before = held.hold(conversationId, snapshot);
      }
      if (event.type === 'MessageSent') this.seen.add(event.data.messageId);
      if ((this.skipThrough.get(conversationId) ?? -1n) >= offset) {
        this.unannounce(event, position, offset, event.type === 'MessageSent' ? event.data.seq : undefined);
        continue;
      }
      const state = evolveConversation(before ?? initialConversationState(), event, position);
      held.set(conversationId, state, offset);
      // Numbered as the state counts (events from before messages carried their number too).
      this.unannounce(event, position, offset, state.status === 'CREATED' ? state.messageCount : undefined);
    }
    held.dropBeyondLimit(new Set());
    await held.caughtUpWithSaves(); // reading outruns saving
  }

  private unannounce(event: ConversationEvent, position: LogPosition, offset: bigint, seq: number | undefined): void {
    if (this.announceFrom === undefined || offset < this.announceFrom) return;
    this.unannounced.push({ event, position, ...(seq === undefined ? {} : { seq }) });
    if (this.unannounced.length > MAX_REANNOUNCED) this.unannounced.splice(0, this.unannounced.length - MAX_REANNOUNCED);
  }

  /**
   * Before the partition is read: the offset below which the previous writer announced every
   * event. What it appended after that (it may have died in between) is announced again once
   * read; null: unknown (Redis lost it), nothing is.
   */
  announceAgainFrom(offset: bigint | null): void {
    this.announcer?.interrupted(this.partition);
    this.announceFrom = offset ?? undefined;
    this.unannounced = [];
  }

  /** Whether the partition is to be read from its checkpoint (not after one turned out incomplete). */
  get readsFromCheckpoints(): boolean {
    return this.retention !== undefined && !this.ignoreCheckpoints;
  }

  /**
   * Before the partition is read: the checkpoint it is read from (its message-id filters taken
   * over), or null to read it from its start. Returns the offset to read from.
   */
  readFromCheckpoint(checkpoint: PartitionCheckpoint | null): bigint {
    if (!checkpoint || !this.readsFromCheckpoints) return 0n;
    this.readFrom = checkpoint.through;
    this.held.readingFromCheckpoint();
    this.seen = SeenIds.from(checkpoint.seen);
    this.seenSavedFrom = Math.max(0, this.seen.filterCount - 1);
    this.checkpointedThrough = checkpoint.through;
    // What the previous writer may not have announced is read too (its events skipped: in the snapshots).
    return this.announceFrom !== undefined && this.announceFrom < checkpoint.through ? this.announceFrom : checkpoint.through;
  }

  /**
   * The partition's new appender, opened before the partition is read again. Returns the one
   * it replaces, to close; a revoked writer takes none (the caller closes `appender` then).
   */
  opened(appender: PartitionAppender): { readonly accepted: boolean; readonly replaced?: PartitionAppender } {
    if (this.phase === 'gone') return { accepted: false };
    const replaced = this.appender;
    this.appender = appender;
    return { accepted: true, replaced };
  }

  /** The partition has been read to its end after its appender was opened: commands can be decided. */
  caughtUp(nextOffset: bigint): void {
    if (this.phase !== 'reading' || !this.appender) return;
    this.nextOffset = nextOffset;
    this.acked = nextOffset;
    this.phase = 'ready';
    this.skipThrough.clear();
    if (this.checkpointBroken) {
      this.ignoreCheckpoints = true;
      this.startOver(`the checkpoint at offset ${String(this.readFrom)} lacks a conversation's snapshot: reading the whole partition`);
      return;
    }
    this.ignoreCheckpoints = false;
    if (this.unannounced.length > 0) this.announcer?.appended(this.partition, this.unannounced);
    this.unannounced = [];
    this.announceFrom = undefined;
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
  }

  /** The partition went to another owner: nothing more is decided here. Returns the appender to close. */
  revoke(): PartitionAppender | undefined {
    this.phase = 'gone';
    const gone = new UnavailableError(`partition ${this.partition} moved to another command-service instance; retry`);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(gone);
    for (const pending of this.queued.splice(0)) pending.reject(gone);
    this.forget();
    const appender = this.appender;
    this.appender = undefined;
    return appender;
  }

  /**
   * The user's membership in the state commands are decided on (decisions not yet acknowledged
   * included): when they joined, or null when they are not a member (or the conversation does not exist).
   */
  async membership(conversationId: string, userId: string, timeoutMs: number): Promise<string | null> {
    if (this.phase !== 'ready') await this.untilReady(timeoutMs);
    if (this.held.mayHaveSnapshot(conversationId)) {
      await this.restoreInTime(conversationId, timeoutMs);
      return this.membership(conversationId, userId, timeoutMs);
    }
    const state = this.held.get(conversationId);
    return state?.status === 'CREATED' ? (state.members.get(userId)?.joinedAt ?? null) : null;
  }

  async decide(command: ConversationCommand, metadata: CommandMetadata, timeoutMs: number, lookedUp = false): Promise<Decision> {
    if (this.phase !== 'ready') await this.untilReady(timeoutMs);
    const { conversationId } = command.data;
    if (this.held.mayHaveSnapshot(conversationId)) {
      await this.restoreInTime(conversationId, timeoutMs);
      return this.decide(command, metadata, timeoutMs, lookedUp);
    }
    const before = this.held.get(conversationId) ?? initialConversationState();
    const events = decideConversation(command, before); // a DomainError rejects the command here
    if (command.type === 'MarkRead' && command.data.upToSeq === undefined && events[0]?.type === 'ReadMarkerMoved' && events[0].data.upToSeq === undefined && this.older) {
      // The marker points further back than the state's latest messages: the read model numbers it.
      const upToSeq = await this.lookUpOlder('number the message a read marker points at', () => this.older!.seqAt(conversationId, command.data.upTo, Date.now() + timeoutMs));
      return this.decide({ ...command, data: { ...command.data, upToSeq } }, metadata, timeoutMs, lookedUp);
    }
    const sent = events[0]?.type === 'MessageSent' ? events[0].data : undefined;
    if (sent && !lookedUp && this.older && before.status === 'CREATED' && before.messages.hasEvicted && this.seen.mayHave(sent.messageId)) {
      // Maybe a retry of a message older than the state keeps: the read model knows.
      const projectedPast = before.messages.evictedThrough ?? { partition: this.partition, offset: '0' };
      const original = await this.lookUpOlder('tell whether this send retries an older message', () =>
        this.older!.find(conversationId, sent.messageId, projectedPast, Date.now() + timeoutMs),
      );
      if (original) return { before, after: before, events: [], positions: [], message: original };
      return this.decide(command, metadata, timeoutMs, true);
    }
    let after = before;
    const positions = events.map((event) => {
      const position = { partition: this.partition, offset: String(this.nextOffset++) };
      after = evolveConversation(after, event, position);
      return position;
    });
    if (events.length > 0) this.held.set(conversationId, after, BigInt(positions.at(-1)!.offset));
    if (sent) this.seen.add(sent.messageId);
    const message = sent && after.status === 'CREATED' ? after.messages.get(sent.messageId) : undefined;
    const decision: Decision = { before, after, events, positions, ...(message ? { message } : {}) };
    if (events.length === 0 && !this.inFlight && this.queued.length === 0) return decision;
    return new Promise((resolve, reject) => {
      // Even a decision with no events waits for the appends before it: it may rest on them.
      this.queued.push({ conversationId, decision, events: events.map((event, i) => withMetadata(event, positions[i], command.data.now, metadata)), resolve, reject });
      if (!this.inFlight) this.inFlight = this.appendQueued();
    });
  }

  /**
   * Saves a checkpoint (docs/adr/0016) when anything changed since the last: the acknowledged
   * state of every conversation changed since then (a conversation with a decision in flight:
   * its state before that decision), the message-id filters, then the offset through which all
   * of that holds. Does nothing while dropped conversations wait for their snapshots.
   */
  async checkpoint(): Promise<void> {
    const snapshots = this.retention?.snapshots;
    if (!snapshots || this.phase !== 'ready' || this.checkpointing || !this.held.allSaved) return;
    if (!this.held.hasChanges && this.acked === this.checkpointedThrough) return;
    const { held, acked: through } = this;
    const undecided = new Map<string, ConversationState>();
    for (const pending of [...this.inFlightBatch, ...this.queued]) if (!undecided.has(pending.conversationId)) undecided.set(pending.conversationId, pending.decision.before);
    const changed = held.takeChanged(undecided);
    const saves: Array<[string, CreatedConversation]> = [];
    for (const [id, state] of changed) if (state?.status === 'CREATED') saves.push([id, state]);
    this.checkpointing = true;
    try {
      await inChunks(saves, ([id, state]) => snapshots.save(id, { snapshot: snapshotOf(state), lastOffset: through - 1n }));
      const filterCount = this.seen.filterCount;
      await snapshots.saveCheckpoint(this.partition, { through, seen: this.seen.filtersFrom(this.seenSavedFrom) });
      if (held !== this.held) return;
      this.seenSavedFrom = Math.max(0, filterCount - 1);
      this.checkpointedThrough = through;
    } catch (err) {
      held.markChanged(changed.keys());
      this.retention?.failed?.(`saving a checkpoint of partition ${this.partition}`, err);
    } finally {
      this.checkpointing = false;
    }
  }

  /** Restores a dropped conversation before deciding on it; UNAVAILABLE when its snapshot cannot be read in time. */
  private async restoreInTime(conversationId: string, timeoutMs: number): Promise<void> {
    const held = this.held;
    const restored = await within(held.restore(conversationId), timeoutMs).catch((err: unknown) => {
      throw new UnavailableError(`could not restore conversation ${conversationId} from its snapshot (${(err as Error).message}); retry`);
    });
    if (held === this.held && !held.has(conversationId)) held.hold(conversationId, restored);
  }

  /** Forgets every conversation's state (the log, read again, is the truth). */
  private forget(): void {
    this.held.retire();
    this.held = new HeldConversations(this.retention);
    this.readFrom = undefined;
    this.checkpointBroken = false;
    this.inFlightBatch = [];
    this.skipThrough.clear();
  }

  /** What the read model knows of older messages; UNAVAILABLE when it cannot say in time. */
  private async lookUpOlder<T>(what: string, lookup: () => Promise<T>): Promise<T> {
    try {
      return await lookup();
    } catch (err) {
      throw new UnavailableError(`could not ${what} (${(err as Error).message}); retry`);
    }
  }

  private async appendQueued(): Promise<void> {
    while (this.queued.length > 0 && this.phase === 'ready') {
      const appender = this.appender!;
      const batch = this.queued.splice(0);
      this.inFlightBatch = batch;
      const events = batch.flatMap((p) => p.events);
      const expected = batch.flatMap((p) => p.decision.positions);
      // Decisions from now on go in the next append, after this one's commit marker.
      if (events.length > 0) this.nextOffset += BigInt(appender.offsetsAfterAppend);
      try {
        const positions = await appender.append(events);
        this.announcer?.appended(this.partition, events.map(({ event }, i) => ({ event, position: positions[i] })));
        const where = positions.findIndex((p, i) => p.offset !== expected[i].offset);
        if (where !== -1) {
          // Another writer appended to this partition (one that lost it and has not noticed yet):
          // these events are in the log, but the state they were decided on was not the log's.
          for (const pending of batch) pending.resolve(pending.decision);
          this.startOver(`an append landed at offset ${positions[where].offset} instead of ${expected[where].offset}`);
          return;
        }
        if (positions.length > 0) this.acked = BigInt(positions.at(-1)!.offset) + 1n;
        this.inFlightBatch = [];
        for (const pending of batch) pending.resolve(pending.decision);
        this.held.dropBeyondLimit(new Set(this.queued.map((p) => p.conversationId)));
      } catch (err) {
        if (err instanceof FencedError) return this.fenced(batch);
        const failed = new UnavailableError(`appending to partition ${this.partition} failed (${(err as Error).message}); retry`);
        for (const pending of batch) pending.reject(failed);
        return this.startOver(`an append failed: ${(err as Error).message}`);
      }
    }
    this.inFlight = undefined;
  }

  /** Forgets the state, fails what was decided on it, and reopens the partition. */
  private startOver(reason: string): void {
    this.announcer?.interrupted(this.partition);
    const failed = new UnavailableError(`partition ${this.partition} is being reloaded from the log (${reason}); retry`);
    for (const pending of this.queued.splice(0)) pending.reject(failed);
    this.forget();
    this.seen = new SeenIds();
    this.inFlight = undefined;
    if (this.phase !== 'ready') return;
    this.phase = 'reading';
    this.recovery.reopen(this.partition);
  }

  /** Another instance opened the partition: decide nothing more until the rebalance revokes it. */
  private fenced(failed: readonly Pending[]): void {
    this.announcer?.interrupted(this.partition);
    const fenced = new UnavailableError(`partition ${this.partition} was taken over by another command-service instance; retry`);
    for (const pending of [...failed, ...this.queued.splice(0)]) pending.reject(fenced);
    this.forget();
    this.inFlight = undefined;
    if (this.phase === 'ready') this.phase = 'fenced';
  }

  private untilReady(timeoutMs: number): Promise<void> {
    if (this.phase === 'gone' || this.phase === 'fenced') {
      return Promise.reject(new UnavailableError(`partition ${this.partition} moved to another command-service instance; retry`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        reject(new UnavailableError(`timed out after ${timeoutMs} ms reading partition ${this.partition} of the event log`));
      }, timeoutMs);
      const waiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (err: unknown) => (clearTimeout(timer), reject(err)),
      };
      this.readyWaiters.push(waiter);
    });
  }
}

/**
 * Event ids are the record keys, derived by the server from what was decided (never from an id
 * a caller chooses, so no caller can make compaction remove another event): a message's is its
 * message id (deterministic, so a retry can never reach the log twice: the writer answers it
 * from its state); every other event's is its conversation and its position, unique in the log.
 */
function eventIdFor(event: ConversationEvent, position: LogPosition): string {
  return event.type === 'MessageSent' ? event.data.messageId : `${event.data.conversationId}@${position.offset}`;
}

function withMetadata(event: ConversationEvent, position: LogPosition, now: string, metadata: CommandMetadata): NewEvent {
  return {
    event,
    metadata: {
      eventId: eventIdFor(event, position),
      actorId: metadata.actorId,
      occurredAt: now,
      causationId: metadata.commandId,
      correlationId: metadata.correlationId || metadata.commandId,
    },
  };
}
