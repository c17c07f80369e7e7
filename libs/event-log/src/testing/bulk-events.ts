// Large, valid event logs for benchmarks and load tests: conversations created with members,
// messages sent, some joins, leaves, read markers and duplicate sends, every event decided by
// the domain's pure decider on the conversation's state, as the command service would append
// it. Deterministic for a given seed. Kept out of the library's index (tests and benchmarks only).
import {
  decideConversation,
  directConversationId,
  evolveConversation,
  initialConversationState,
  isDirectConversationId,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationEventType,
  type ConversationState,
  type CreatedConversation,
  type LogPosition,
} from '@parley/domain';
import type { EventLog, NewEvent, PartitionOffsets } from '../event-log.port';

/** Relative weights of the commands sent to a conversation once it exists. */
export interface BulkCommandMix {
  readonly send: number;
  readonly markRead: number;
  /** GROUP conversations only: a user who is not a member joins. */
  readonly join: number;
  /** GROUP conversations only, and only while more than two members are left. */
  readonly leave: number;
}

export interface BulkEventsOptions {
  /** Exactly this many events are generated. */
  readonly events: number;
  readonly partitionCount: number;
  /** Where the log puts a conversation (EventLog.partitionFor). */
  readonly partitionFor: (conversationId: string) => number;
  /** The offset the first generated event of each partition gets (default 0): positions are predicted, for read markers. */
  readonly startOffsets?: PartitionOffsets;
  readonly seed?: number;
  /** Conversations receiving events at any one time; one that has had its share is replaced by a new one. */
  readonly activeConversations?: number;
  /** Mean number of events in a conversation's life (exponentially distributed, at least 10). */
  readonly meanConversationEvents?: number;
  readonly users?: number;
  /** Share of new conversations that are GROUP (3 to `maxGroupSize` members); the rest are DIRECT. */
  readonly groupShare?: number;
  readonly maxGroupSize?: number;
  readonly mix?: Partial<BulkCommandMix>;
  /** Share of sends appended twice, as two racing decisions on the same state would (same message id). */
  readonly duplicateShare?: number;
  /** Events are dated from here, 10 ms apart (ISO-8601). */
  readonly startTime?: string;
}

/** One append: events of one conversation, with the positions the log will give them. */
export interface BulkStep {
  readonly conversationId: string;
  readonly events: readonly NewEvent[];
  readonly positions: readonly LogPosition[];
  /** A second MessageSent of a message already in the log (a racing decision). */
  readonly duplicate?: boolean;
}

export const DEFAULT_BULK_MIX: BulkCommandMix = { send: 85, markRead: 10, join: 2, leave: 1 };

/** Small, fast and seedable (mulberry32): the same seed gives the same log. */
class Random {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  id(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += '0123456789abcdefghijklmnopqrstuvwxyz'[this.int(36)];
    return out;
  }
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');

interface ActiveConversation {
  readonly id: string;
  state: CreatedConversation;
  remaining: number;
  /** Positions of its latest messages, newest last: what read markers point at. */
  readonly recentMessages: LogPosition[];
  sent: number;
  /** A racing second decision of a send, appended as the conversation's next step. */
  pendingDuplicate?: NewEvent;
}

/**
 * Valid conversation traffic, step by step (one step is one append of one conversation).
 * Positions are predicted from `startOffsets`, so the log must receive exactly these steps,
 * in this order, and nothing else meanwhile (appendBulkEvents checks).
 */
export function* generateBulkEvents(options: BulkEventsOptions): Generator<BulkStep> {
  if (options.events < 3) throw new Error(`A valid log starts with a conversation: at least 3 events (got ${options.events})`);
  const random = new Random(options.seed ?? 1);
  const mix = { ...DEFAULT_BULK_MIX, ...options.mix };
  const users = Array.from({ length: options.users ?? 5_000 }, (_, i) => `user${String(i).padStart(5, '0')}`);
  const activeCount = options.activeConversations ?? 1_000;
  const meanEvents = options.meanConversationEvents ?? 150;
  const groupShare = options.groupShare ?? 0.3;
  const maxGroupSize = Math.max(3, options.maxGroupSize ?? 10);
  const duplicateShare = options.duplicateShare ?? 0.002;
  const start = Date.parse(options.startTime ?? '2026-01-01T00:00:00.000Z');
  const next = new Map<number, bigint>();
  for (let p = 0; p < options.partitionCount; p++) next.set(p, BigInt(options.startOffsets?.get(p) ?? '0'));
  const directPairs = new Set<string>();
  /** Partitions of the active conversations (hashing the id for every event is a good part of the cost). */
  const partitions = new Map<string, number>();
  const partitionOf = (conversationId: string) => {
    let partition = partitions.get(conversationId);
    if (partition === undefined) {
      partition = options.partitionFor(conversationId);
      partitions.set(conversationId, partition);
    }
    return partition;
  };
  const active: ActiveConversation[] = [];
  let remaining = options.events;
  let clock = 0;
  let commands = 0;

  const now = () => new Date(start + 10 * clock++).toISOString();
  const commandId = () => `bulk-${options.seed ?? 1}-${(commands++).toString(36)}`;
  const body = () => {
    const words = 2 + random.int(18);
    return Array.from({ length: words }, () => random.pick(WORDS)).join(' ');
  };

  /** Decides the command, records the events at their predicted positions, evolves the state. */
  const decide = (command: ConversationCommand, state: ConversationState): { step: BulkStep; state: ConversationState } | null => {
    const events = decideConversation(command, state);
    if (events.length === 0) return null;
    const { conversationId, actorId, now: occurredAt } = command.data;
    const partition = partitionOf(conversationId);
    const id = commandId();
    const positions = events.map(() => {
      const offset = next.get(partition)!;
      next.set(partition, offset + 1n);
      return { partition, offset: offset.toString() };
    });
    const newEvents = events.map(
      (event, index): NewEvent => ({
        event,
        metadata: { eventId: eventIdFor(event, index, id), actorId, occurredAt, causationId: id, correlationId: id },
      }),
    );
    const after = events.reduce((s, event, i) => evolveConversation(s, event, positions[i]), state);
    return { step: { conversationId, events: newEvents, positions }, state: after };
  };

  const create = (): BulkStep | null => {
    const group = random.next() < groupShare;
    const creator = random.pick(users);
    let conversationId: string;
    let memberIds: string[];
    if (group) {
      const size = 3 + random.int(maxGroupSize - 2);
      const members = new Set<string>();
      while (members.size < size - 1) {
        const user = random.pick(users);
        if (user !== creator) members.add(user);
      }
      memberIds = [...members];
      conversationId = `g_${random.id(26)}`;
    } else {
      const other = random.pick(users);
      conversationId = directConversationId(creator, other);
      // One DIRECT conversation per pair: creating it again would append nothing.
      if (other === creator || directPairs.has(conversationId)) return null;
      directPairs.add(conversationId);
      memberIds = [other];
    }
    if (memberIds.length + 2 > remaining) return null;
    const command: ConversationCommand = {
      type: 'CreateConversation',
      data: { conversationId, kind: group ? 'GROUP' : 'DIRECT', title: group ? body().slice(0, 40) : null, memberIds, actorId: creator, now: now() },
    };
    const decided = decide(command, initialConversationState());
    if (!decided) return null;
    const lifetime = 10 + Math.round(-Math.log(1 - random.next()) * Math.max(0, meanEvents - 10));
    active.push({ id: conversationId, state: decided.state as CreatedConversation, remaining: lifetime, recentMessages: [], sent: 0 });
    return decided.step;
  };

  const act = (conversation: ActiveConversation): BulkStep | null => {
    const { state, id: conversationId } = conversation;
    const members = [...state.members.keys()];
    const total = mix.send + mix.markRead + mix.join + mix.leave;
    let roll = random.next() * total;
    let command: ConversationCommand;
    const at = now();
    if ((roll -= mix.send) < 0) {
      const actorId = random.pick(members);
      const clientMessageId = `c${(conversation.sent++).toString(36)}_${random.id(6)}`;
      command = { type: 'SendMessage', data: { conversationId, body: body(), clientMessageId, actorId, now: at } };
    } else if ((roll -= mix.markRead) < 0) {
      const recent = conversation.recentMessages;
      if (recent.length === 0) return null;
      // Mostly everything, sometimes only up to an earlier message (a client that showed less).
      const upTo = random.next() < 0.7 ? recent[recent.length - 1] : recent[random.int(recent.length)];
      const actorId = random.pick(members);
      const marker = state.members.get(actorId)!.readMarker;
      if (marker !== null && BigInt(marker.offset) >= BigInt(upTo.offset)) return null;
      command = { type: 'MarkRead', data: { conversationId, upTo, actorId, now: at } };
    } else if ((roll -= mix.join) < 0) {
      if (state.kind !== 'GROUP') return null;
      const actorId = random.pick(users);
      if (state.members.has(actorId)) return null;
      command = { type: 'JoinConversation', data: { conversationId, actorId, now: at } };
    } else {
      if (state.kind !== 'GROUP' || members.length <= 2) return null;
      command = { type: 'LeaveConversation', data: { conversationId, actorId: random.pick(members), now: at } };
    }
    const decided = decide(command, state);
    if (!decided) return null;
    conversation.state = decided.state as CreatedConversation;
    const sent = decided.step.events.find((e) => e.event.type === 'MessageSent');
    if (sent) {
      conversation.recentMessages.push(decided.step.positions[0]);
      if (conversation.recentMessages.length > 20) conversation.recentMessages.shift();
      if (random.next() < duplicateShare) {
        // The racing decision was taken on the same state: the same message, decided a moment later.
        conversation.pendingDuplicate = { event: sent.event, metadata: { ...sent.metadata, occurredAt: now(), causationId: commandId() } };
      }
    }
    return decided.step;
  };

  const duplicate = (conversation: ActiveConversation): BulkStep => {
    const event = conversation.pendingDuplicate!;
    conversation.pendingDuplicate = undefined;
    const partition = partitionOf(conversation.id);
    const offset = next.get(partition)!;
    next.set(partition, offset + 1n);
    const position = { partition, offset: offset.toString() };
    // A duplicate changes nothing in the state (the first occurrence wins), but it is a message position.
    conversation.state = evolveConversation(conversation.state, event.event, position) as CreatedConversation;
    return { conversationId: conversation.id, events: [event], positions: [position], duplicate: true };
  };

  while (remaining > 0) {
    let step: BulkStep | null;
    if (active.length < activeCount && remaining >= 2 + maxGroupSize) {
      step = create();
    } else if (active.length === 0) {
      step = create();
    } else {
      const index = random.int(active.length);
      const conversation = active[index];
      step = conversation.pendingDuplicate ? duplicate(conversation) : act(conversation);
      // The last active conversation stays: the events left may be too few for a new one.
      if (step && --conversation.remaining <= 0 && !conversation.pendingDuplicate && active.length > 1) {
        active[index] = active[active.length - 1];
        active.pop();
        partitions.delete(conversation.id);
      }
    }
    if (!step) continue;
    remaining -= step.events.length;
    yield step;
  }
}

/** As the command service names events (the record keys): a message's id is its event id. */
function eventIdFor(event: ConversationEvent, index: number, commandId: string): string {
  const { conversationId } = event.data;
  if (event.type === 'MessageSent') return event.data.messageId;
  if (isDirectConversationId(conversationId)) {
    if (event.type === 'ConversationCreated') return `${conversationId}.created`;
    if (event.type === 'UserJoined') return `${conversationId}.joined.${event.data.userId}`;
  }
  return `${commandId}.${index}`;
}

export interface BulkAppendOptions extends Omit<BulkEventsOptions, 'partitionCount' | 'partitionFor' | 'startOffsets'> {
  /** Events queued per produce request at most (default 20,000). */
  readonly requestEvents?: number;
  /** Events per partition in one request at most, keeping each record batch under the broker's 1 MiB limit (default 2,000). */
  readonly requestEventsPerPartition?: number;
  /** Called after each request with the number of events appended so far. */
  readonly onProgress?: (appended: number) => void;
}

export interface BulkAppendSummary {
  readonly events: number;
  readonly byType: Readonly<Record<ConversationEventType, number>>;
  readonly conversations: number;
  /** Duplicate MessageSent records (same message id at a later offset). */
  readonly duplicates: number;
  readonly endOffsets: PartitionOffsets;
}

/**
 * Appends generated traffic to a log fast: many conversations' appends are queued together, so
 * KafkaEventLog sends them in one request (one request in flight, the next one queued
 * meanwhile). Each request is bounded per partition below the broker's record-batch limit. The
 * log must not be written by anyone else meanwhile: the predicted positions are checked.
 */
export async function appendBulkEvents(log: EventLog, options: BulkAppendOptions): Promise<BulkAppendSummary> {
  const maxRequest = options.requestEvents ?? 20_000;
  const maxPerPartition = options.requestEventsPerPartition ?? 2_000;
  const startOffsets = await log.endOffsets();
  const steps = generateBulkEvents({
    ...options,
    partitionCount: log.partitionCount,
    partitionFor: (id) => log.partitionFor(id),
    startOffsets,
  });
  const byType: Record<ConversationEventType, number> = { ConversationCreated: 0, UserJoined: 0, UserLeft: 0, MessageSent: 0, ReadMarkerMoved: 0 };
  let duplicates = 0;
  let appended = 0;

  const check = (step: BulkStep) => (positions: LogPosition[]) => {
    positions.forEach((position, i) => {
      const expected = step.positions[i];
      if (position.partition !== expected.partition || position.offset !== expected.offset) {
        throw new Error(
          `${step.conversationId}: the log put an event at ${position.partition}/${position.offset}, ` +
            `not at ${expected.partition}/${expected.offset}; was it written by someone else meanwhile?`,
        );
      }
    });
  };

  /** The next request's steps: bounded in total and per partition. */
  const nextRequest = (): BulkStep[] => {
    const request: BulkStep[] = [];
    const perPartition = new Map<number, number>();
    let size = 0;
    for (let next = steps.next(); !next.done; next = steps.next()) {
      const step = next.value;
      request.push(step);
      const partition = step.positions[0].partition;
      const inPartition = (perPartition.get(partition) ?? 0) + step.events.length;
      perPartition.set(partition, inPartition);
      size += step.events.length;
      if (size >= maxRequest || inPartition >= maxPerPartition) break;
    }
    return request;
  };

  let inFlight: Promise<unknown> = Promise.resolve();
  for (let request = nextRequest(); request.length > 0; request = nextRequest()) {
    // Generated while the previous request is in flight; queued once it is done, so that
    // KafkaEventLog, which sends whatever is queued in one request, never merges two.
    await inFlight;
    for (const step of request) {
      for (const { event } of step.events) byType[event.type]++;
      if (step.duplicate) duplicates++;
    }
    const size = request.reduce((n, step) => n + step.events.length, 0);
    inFlight = Promise.all(request.map((step) => log.append(step.conversationId, step.events).then(check(step)))).then(() => {
      appended += size;
      options.onProgress?.(appended);
    });
  }
  await inFlight;
  return { events: appended, byType, conversations: byType.ConversationCreated, duplicates, endOffsets: await log.endOffsets() };
}
