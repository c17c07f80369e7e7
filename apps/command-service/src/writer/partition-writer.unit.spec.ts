import { ConversationNotFoundError, findMessage, messageIdFor, RECENT_MESSAGES, type ConversationCommand, type ConversationEvent, type LogPosition } from '@parley/domain';
import { InMemoryEventLog, readToEnd, type PartitionAppender } from '@parley/event-log';
import { UnavailableError } from '../grpc/grpc-errors';
import type { AppendedEvent } from '../live/live-lane';
import type { ConversationSnapshots, PartitionCheckpoint, StoredSnapshot } from '../snapshots/conversation-snapshots';
import { PartitionWriter } from './partition-writer';

const GROUP = 'g_01jnfx3c9m8q2v7k4x6b5n1t0r';
const NOW = '2026-12-03T10:00:00.000Z';
const meta = (actorId: string, commandId = `${actorId}-${Math.random()}`) => ({ actorId, commandId, correlationId: '' });

const create = (conversationId = GROUP): ConversationCommand => ({
  type: 'CreateConversation',
  data: { conversationId, kind: 'GROUP', title: 't', memberIds: ['bob'], actorId: 'alice', now: NOW },
});
const send = (clientMessageId: string, actorId = 'alice', conversationId = GROUP): ConversationCommand => ({
  type: 'SendMessage',
  data: { conversationId, body: `body ${clientMessageId}`, clientMessageId, actorId, now: NOW },
});
const leave = (actorId: string): ConversationCommand => ({ type: 'LeaveConversation', data: { conversationId: GROUP, actorId, now: NOW } });

/** An in-memory log whose appends can be held back or made to fail, to see the writer's order. */
class ControlledLog extends InMemoryEventLog {
  readonly requests: number[] = [];
  private gate?: Promise<void>;
  private open?: () => void;
  failNext?: Error;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  override openAppender(partition: number): PartitionAppender {
    const inner = super.openAppender(partition);
    return {
      ...inner,
      append: async (events) => {
        this.requests.push(events.length);
        await this.gate;
        if (this.failNext) {
          const err = this.failNext;
          this.failNext = undefined;
          throw err;
        }
        return inner.append(events);
      },
    };
  }
}

/** Opens the partition (a new appender), reads it from the log and hands both to the writer. */
async function open(writer: PartitionWriter, log: ControlledLog): Promise<void> {
  writer.opened(log.openAppender(writer.partition));
  const events = (await readToEnd(log)).filter((e) => e.position.partition === writer.partition);
  await writer.apply({ partition: writer.partition, events, highWatermark: '0', nextOffset: '0' });
  writer.caughtUp(BigInt((await log.endOffsets()).get(writer.partition)!));
}

/** A writer that has read its partition and reopens it from `log` when it must. */
function writerOn(log: ControlledLog): { writer: PartitionWriter; rereads: number[] } {
  const rereads: number[] = [];
  const writer: PartitionWriter = new PartitionWriter(log.partitionFor(GROUP), {
    reopen: (p) => {
      rereads.push(p);
      void open(writer, log);
    },
  });
  void open(writer, log);
  return { writer, rereads };
}

/** What a writer hands the live lane: event type, offset and number, per acknowledged append. */
class Announcements {
  readonly appends: string[][] = [];
  /** Every append announced and every interruption, in order. */
  readonly journal: string[] = [];
  appended(_partition: number, events: readonly AppendedEvent[]): void {
    const append = events.map((e) => `${e.event.type}@${e.position.offset}${e.event.type === 'MessageSent' ? `#${e.seq ?? e.event.data.seq}` : ''}`);
    this.appends.push(append);
    this.journal.push(append.join(' '));
  }
  interrupted(): void {
    this.journal.push('interrupted');
  }
}

describe('PartitionWriter', () => {
  it('hands every acknowledged append to the live lane with its final positions, messages numbered', async () => {
    const log = new ControlledLog(4);
    const announced = new Announcements();
    const writer = new PartitionWriter(log.partitionFor(GROUP), { reopen: () => undefined }, undefined, announced);
    await open(writer, log);
    await writer.decide(create(), meta('alice'), 1000);
    await Promise.all([writer.decide(send('m1'), meta('alice'), 1000), writer.decide(send('m2', 'bob'), meta('bob'), 1000)]);
    await writer.decide(leave('bob'), meta('bob'), 1000);

    expect(announced.appends).toEqual([
      ['ConversationCreated@0', 'UserJoined@1', 'UserJoined@2'],
      ['MessageSent@3#1'],
      ['MessageSent@4#2'],
      ['UserLeft@5'],
    ]);
  });

  it("announces again, once it has read the partition, what was appended after the previous writer's last announcement", async () => {
    const log = new ControlledLog(4);
    const { writer: previous } = writerOn(log);
    await previous.decide(create(), meta('alice'), 1000);
    for (const id of ['m1', 'm2', 'm3']) await previous.decide(send(id), meta('alice'), 1000); // offsets 3, 4, 5

    const announced = new Announcements();
    const next = new PartitionWriter(log.partitionFor(GROUP), { reopen: () => undefined }, undefined, announced);
    next.announceAgainFrom(4n); // the previous writer announced everything below offset 4
    await open(next, log);
    expect(announced.appends).toEqual([['MessageSent@4#2', 'MessageSent@5#3']]);

    await next.decide(send('m4'), meta('alice'), 1000);
    expect(announced.appends.at(-1)).toEqual(['MessageSent@6#4']);
  });

  it('decides on the state including decisions not yet acknowledged, and appends them together', async () => {
    const log = new ControlledLog(4);
    const { writer } = writerOn(log);
    await writer.decide(create(), meta('alice'), 1000);
    log.hold();
    const first = writer.decide(send('m1'), meta('alice'), 1000); // in flight
    const second = writer.decide(send('m2'), meta('alice'), 1000); // waits for m1's append
    const third = writer.decide(send('m3', 'bob'), meta('bob'), 1000);
    log.release();
    const [a, b, c] = await Promise.all([first, second, third]);
    expect(log.requests).toEqual([3, 1, 2]); // creation, then m1, then m2 and m3 in one append
    expect([a, b, c].map((d) => Number(d.positions[0].offset))).toEqual([3, 4, 5]);
    const logged = (await readToEnd(log)).filter((e) => e.event.type === 'MessageSent');
    expect(logged.map((e) => e.position.offset)).toEqual(['3', '4', '5']);
  });

  it('answers a retry of a message whose append is in flight with the original, once it is durable', async () => {
    const log = new ControlledLog(4);
    const { writer } = writerOn(log);
    await writer.decide(create(), meta('alice'), 1000);
    log.hold();
    const original = writer.decide(send('m1'), meta('alice'), 1000);
    let retryDone = false;
    const retry = writer.decide(send('m1'), meta('alice'), 1000).then((d) => ((retryDone = true), d));
    await new Promise((resolve) => setImmediate(resolve));
    expect(retryDone).toBe(false);
    log.release();
    const [first, again] = await Promise.all([original, retry]);
    expect(again.events).toEqual([]);
    const id = messageIdFor(GROUP, 'alice', 'm1');
    expect(findMessage(again.after, id)?.position).toEqual(first.positions[0]);
    expect((await readToEnd(log)).filter((e) => e.event.type === 'MessageSent')).toHaveLength(1);
  });

  it('rejects at once what the decider refuses, appending nothing', async () => {
    const log = new ControlledLog(4);
    const { writer } = writerOn(log);
    await writer.decide(create(), meta('alice'), 1000);
    await writer.decide(leave('bob'), meta('bob'), 1000);
    await expect(writer.decide(send('m1', 'bob'), meta('bob'), 1000)).rejects.toBeInstanceOf(ConversationNotFoundError);
    expect(log.requests).toEqual([3, 1]);
  });

  it('after a failed append fails what was decided on it, reads the partition again and decides on the log', async () => {
    const log = new ControlledLog(4);
    const { writer, rereads } = writerOn(log);
    await writer.decide(create(), meta('alice'), 1000);
    log.hold();
    log.failNext = new Error('broker gone');
    const failed = writer.decide(send('m1'), meta('alice'), 1000);
    const decidedOnFailed = writer.decide(leave('bob'), meta('bob'), 1000);
    log.release();
    await expect(failed).rejects.toBeInstanceOf(UnavailableError);
    await expect(decidedOnFailed).rejects.toBeInstanceOf(UnavailableError);
    expect(rereads).toHaveLength(1);
    // m1 is not in the log, so its retry appends it now, at the offset after the creation.
    const retried = await writer.decide(send('m1'), meta('alice'), 1000);
    expect(retried.events).toHaveLength(1);
    expect(retried.positions[0].offset).toBe('3');
    expect((await readToEnd(log)).map((e) => e.event.type)).toEqual(['ConversationCreated', 'UserJoined', 'UserJoined', 'MessageSent']);
  });

  it('tells the live lane that what follows a failed append does not follow the last announced one', async () => {
    const log = new ControlledLog(4);
    const announced = new Announcements();
    const writer = new PartitionWriter(log.partitionFor(GROUP), { reopen: () => void open(writer, log) }, undefined, announced);
    await open(writer, log);
    await writer.decide(create(), meta('alice'), 1000);
    log.failNext = new Error('broker gone');
    await expect(writer.decide(send('m1'), meta('alice'), 1000)).rejects.toBeInstanceOf(UnavailableError);
    await writer.decide(send('m2'), meta('alice'), 1000);

    expect(announced.journal.slice(-3)).toEqual(['ConversationCreated@0 UserJoined@1 UserJoined@2', 'interrupted', 'MessageSent@3#1']);
  });

  it('once a newer writer opened the partition, fails its commands and appends nothing more', async () => {
    const log = new ControlledLog(4);
    const { writer: old } = writerOn(log);
    await old.decide(create(), meta('alice'), 1000);
    const { writer: newer } = writerOn(log); // the takeover: opens (fencing the old one), then reads
    await newer.decide(leave('bob'), meta('bob'), 1000);
    // The old owner still believes bob is a member; its append is refused, not logged.
    await expect(old.decide(send('m1', 'bob'), meta('bob'), 1000)).rejects.toThrow(/taken over by another command-service instance/);
    await expect(old.decide(send('m2'), meta('alice'), 1000)).rejects.toThrow(/moved to another command-service instance/);
    expect((await readToEnd(log)).map((e) => e.event.type)).toEqual(['ConversationCreated', 'UserJoined', 'UserJoined', 'UserLeft']);
  });

  it('reopens when an append lands where it was not predicted, and decides on what the log holds', async () => {
    const log = new ControlledLog(4);
    const { writer, rereads } = writerOn(log);
    await writer.decide(create(), meta('alice'), 1000);
    // Another writer appends bob's leave behind this one's back.
    const left = { type: 'UserLeft' as const, data: { conversationId: GROUP, userId: 'bob', leftAt: NOW } };
    await log.append(GROUP, [{ event: left, metadata: { eventId: 'x', actorId: 'bob', occurredAt: NOW, causationId: 'x', correlationId: 'x' } }]);
    await writer.decide(send('m1'), meta('alice'), 1000); // lands at 4, predicted 3
    expect(rereads).toHaveLength(1);
    await expect(writer.decide(send('m2', 'bob'), meta('bob'), 1000)).rejects.toBeInstanceOf(ConversationNotFoundError);
  });

  it('fails waiting commands when its partition goes to another owner', async () => {
    const log = new ControlledLog(4);
    const writer = new PartitionWriter(log.partitionFor(GROUP), { reopen: () => undefined }); // never caught up
    const waiting = writer.decide(create(), meta('alice'), 1000);
    writer.revoke();
    await expect(waiting).rejects.toThrow(/moved to another command-service instance/);
  });

  it('answers a retry of a message older than the state keeps from the read model, and looks nothing up for new ones', async () => {
    const log = new ControlledLog(4);
    const lookups: string[] = [];
    const older = {
      find: async (_conversationId: string, messageId: string, projectedPast: LogPosition) => {
        lookups.push(`${messageId}@${projectedPast.offset}`);
        const logged = (await readToEnd(log)).find((e) => e.event.type === 'MessageSent' && e.event.data.messageId === messageId);
        return logged?.event.type === 'MessageSent' ? { ...logged.event.data, position: logged.position } : null;
      },
      seqAt: () => Promise.reject(new Error('no marker here')),
    };
    const writer = new PartitionWriter(log.partitionFor(GROUP), { reopen: () => undefined }, older);
    await open(writer, log);
    await writer.decide(create(), meta('alice'), 1000);
    for (let n = 0; n < RECENT_MESSAGES + 6; n++) await writer.decide(send(`m${n}`), meta('alice'), 1000);
    expect(lookups).toEqual([]); // new ids: certainly not seen, no lookup
    const retry = await writer.decide(send('m0'), meta('alice'), 1000);
    expect(retry.events).toEqual([]);
    expect(retry.message).toMatchObject({ messageId: messageIdFor(GROUP, 'alice', 'm0'), body: 'body m0', position: { offset: '3' } });
    expect(lookups).toEqual([`${messageIdFor(GROUP, 'alice', 'm0')}@8`]); // after the newest message that left the state
    expect((await readToEnd(log)).filter((e) => e.event.type === 'MessageSent')).toHaveLength(RECENT_MESSAGES + 6);
  });

  it("numbers a read marker from the state's latest messages, and from the read model when it points further back", async () => {
    const log = new ControlledLog(4);
    const lookups: string[] = [];
    const older = {
      find: () => Promise.reject(new Error('no retry here')),
      seqAt: async (_conversationId: string, upTo: LogPosition) => {
        lookups.push(upTo.offset);
        const sent = (await readToEnd(log)).filter((e) => e.event.type === 'MessageSent' && BigInt(e.position.offset) <= BigInt(upTo.offset));
        return sent.length;
      },
    };
    const writer = new PartitionWriter(log.partitionFor(GROUP), { reopen: () => undefined }, older);
    await open(writer, log);
    await writer.decide(create(), meta('alice'), 1000); // offsets 0-2
    for (let n = 0; n < RECENT_MESSAGES + 6; n++) await writer.decide(send(`m${n}`), meta('alice'), 1000); // offsets 3.. numbered 1..
    const markRead = (offset: number, actorId = 'bob'): ConversationCommand => ({
      type: 'MarkRead',
      data: { conversationId: GROUP, actorId, upTo: { partition: writer.partition, offset: String(offset) }, now: NOW },
    });
    const marked = async (offset: number) => {
      const { events } = await writer.decide(markRead(offset), meta('bob'), 1000);
      return events[0]?.type === 'ReadMarkerMoved' ? events[0].data.upToSeq : 'no marker';
    };

    expect(await marked(3 + RECENT_MESSAGES + 5)).toBe(RECENT_MESSAGES + 6); // the last message: from memory
    expect(lookups).toEqual([]);
    const restarted = new PartitionWriter(log.partitionFor(GROUP), { reopen: () => undefined }, older);
    await open(restarted, log); // a writer whose state never held the first messages
    const { events } = await restarted.decide(markRead(5), meta('bob'), 1000);
    expect(events).toEqual([]); // bob's marker is past offset 5 already
    const carol = await restarted.decide({ type: 'JoinConversation', data: { conversationId: GROUP, actorId: 'carol', now: NOW } }, meta('carol'), 1000);
    expect(carol.events).toHaveLength(1);
    const early = await restarted.decide(markRead(5, 'carol'), meta('carol'), 1000);
    expect(early.events[0]).toMatchObject({ type: 'ReadMarkerMoved', data: { upToSeq: 3 } }); // offsets 3, 4, 5: from the read model
    expect(lookups).toEqual(['5']);
  });

  it('fails a command whose partition is not read within the timeout', async () => {
    const writer = new PartitionWriter(0, { reopen: () => undefined });
    await expect(writer.decide(create(), meta('alice'), 50)).rejects.toThrow(/timed out after 50 ms/);
  });
});

/** Snapshots in memory, kept as Cassandra keeps them: as JSON, the one of the later offset winning. */
class MemorySnapshots implements ConversationSnapshots {
  readonly stored = new Map<string, StoredSnapshot>();
  readonly loads: string[] = [];
  down = false;

  async save(conversationId: string, { snapshot, lastOffset }: StoredSnapshot): Promise<void> {
    if (this.down) throw new Error('snapshots unreachable');
    const old = this.stored.get(conversationId);
    if (!old || old.lastOffset <= lastOffset) this.stored.set(conversationId, { snapshot: JSON.parse(JSON.stringify(snapshot)), lastOffset });
  }

  async load(conversationId: string): Promise<StoredSnapshot | null> {
    this.loads.push(conversationId);
    if (this.down) throw new Error('snapshots unreachable');
    return this.stored.get(conversationId) ?? null;
  }

  readonly checkpoints = new Map<number, { through: bigint; seen: Map<number, PartitionCheckpoint['seen'][number]> }>();

  async saveCheckpoint(partition: number, { through, seen }: PartitionCheckpoint): Promise<void> {
    if (this.down) throw new Error('snapshots unreachable');
    const old = this.checkpoints.get(partition) ?? { through: -1n, seen: new Map() };
    if (old.through > through) return;
    for (const filter of seen) old.seen.set(filter.index, { ...filter, bits: filter.bits.slice() });
    this.checkpoints.set(partition, { through, seen: old.seen });
  }

  async loadCheckpoint(partition: number): Promise<PartitionCheckpoint | null> {
    const checkpoint = this.checkpoints.get(partition);
    return checkpoint ? { through: checkpoint.through, seen: [...checkpoint.seen.values()] } : null;
  }
}

describe('PartitionWriter with a bounded state (docs/adr/0016)', () => {
  const LIMIT = 10;
  /** Group ids of partition 0 of a one-partition log. */
  const group = (n: number) => `g_01jnfx3c9m8q2v7k4x6b5n${String(n).padStart(4, '0')}`;
  const join = (actorId: string, conversationId: string): ConversationCommand => ({ type: 'JoinConversation', data: { conversationId, actorId, now: NOW } });
  const membership = (writer: PartitionWriter, conversationId: string, userId: string) => writer.membership(conversationId, userId, 1000);

  function bounded(log: ControlledLog, snapshots: MemorySnapshots) {
    const older = {
      find: async (_conversationId: string, messageId: string) => {
        const logged = (await readToEnd(log)).find((e) => e.event.type === 'MessageSent' && e.event.data.messageId === messageId);
        return logged?.event.type === 'MessageSent' ? { ...logged.event.data, position: logged.position } : null;
      },
      seqAt: () => Promise.reject(new Error('no marker here')),
    };
    return new PartitionWriter(0, { reopen: () => undefined }, older, undefined, { snapshots, maxConversations: LIMIT });
  }

  /** Reads the partition into the writer one event per batch, as a slow fetch would. */
  async function readSlowly(writer: PartitionWriter, log: ControlledLog): Promise<void> {
    writer.opened(log.openAppender(0));
    for (const event of await readToEnd(log)) await writer.apply({ partition: 0, events: [event], highWatermark: '0', nextOffset: '0' });
    writer.caughtUp(BigInt((await log.endOffsets()).get(0)!));
  }

  async function until(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 2_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met within 2 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('keeps at most its limit of conversations, and decides on a dropped one as if it had never left', async () => {
    const log = new ControlledLog(1);
    const snapshots = new MemorySnapshots();
    const writer = bounded(log, snapshots);
    await open(writer, log);
    for (let n = 0; n < 3 * LIMIT; n++) {
      await writer.decide(create(group(n)), meta('alice'), 1000);
      await writer.decide(send(`m${n}`, 'alice', group(n)), meta('alice'), 1000);
    }
    expect(writer.conversationCount).toBeLessThanOrEqual(LIMIT);
    await until(() => snapshots.stored.size >= 2 * LIMIT);
    expect(snapshots.stored.get(group(0))).toMatchObject({ snapshot: { conversationId: group(0), messageCount: 1 }, lastOffset: 3n });

    const sent = await writer.decide(send('again', 'bob', group(0)), meta('bob'), 1000);
    expect(sent.events).toMatchObject([{ type: 'MessageSent', data: { seq: 2 } }]);
    expect(snapshots.loads).toEqual([group(0)]);
    const retry = await writer.decide(send('m1', 'alice', group(1)), meta('alice'), 1000);
    expect(retry.events).toEqual([]);
    expect(retry.message ?? findMessage(retry.after, messageIdFor(group(1), 'alice', 'm1'))).toMatchObject({ body: 'body m1' }); // from the snapshot's window
    await expect(writer.decide(send('x', 'carol', group(2)), meta('carol'), 1000)).rejects.toBeInstanceOf(ConversationNotFoundError);
    expect(await membership(writer, group(3), 'bob')).toBe(NOW);
    expect(await membership(writer, group(3), 'carol')).toBeNull();
    expect((await readToEnd(log)).filter((e) => e.event.type === 'MessageSent')).toHaveLength(3 * LIMIT + 1);
  });

  it('never saves a state holding a decision not yet acknowledged: an append that fails leaves no trace in the snapshots', async () => {
    const log = new ControlledLog(1);
    const snapshots = new MemorySnapshots();
    const writer = bounded(log, snapshots);
    await open(writer, log);
    log.hold();
    const first = writer.decide(create(group(0)), meta('alice'), 1000); // in flight
    await until(() => log.requests.length === 1);
    const queued = Array.from({ length: 2 * LIMIT }, (_, n) => writer.decide(create(group(n + 1)), meta('alice'), 1000).catch((err: unknown) => err));
    log.release();
    log.hold(); // the queued decisions' append waits here
    await first;
    await until(() => log.requests.length === 2);
    log.failNext = new Error('broker gone');
    log.release();
    for (const outcome of await Promise.all(queued)) expect(outcome).toBeInstanceOf(UnavailableError);
    await new Promise((resolve) => setImmediate(resolve));
    expect([...snapshots.stored.keys()].filter((id) => id !== group(0))).toEqual([]);
  });

  it('creates a new conversation without looking for a snapshot', async () => {
    const log = new ControlledLog(1);
    const snapshots = new MemorySnapshots();
    const writer = bounded(log, snapshots);
    await open(writer, log);
    for (let n = 0; n < 3 * LIMIT; n++) await writer.decide(create(group(n)), meta('alice'), 1000);
    expect(snapshots.loads.filter((id) => id === group(3 * LIMIT))).toEqual([]);
    await writer.decide(create(group(3 * LIMIT)), meta('alice'), 1000);
    expect(snapshots.loads).not.toContain(group(3 * LIMIT));
  });

  it('restores a dropped conversation from memory while its snapshot is not saved, and fails its command as UNAVAILABLE once it cannot be read', async () => {
    const log = new ControlledLog(1);
    const snapshots = new MemorySnapshots();
    snapshots.down = true;
    const writer = bounded(log, snapshots);
    await open(writer, log);
    for (let n = 0; n < 2 * LIMIT; n++) await writer.decide(create(group(n)), meta('alice'), 1000);
    const joined = await writer.decide(join('carol', group(0)), meta('carol'), 1000);
    expect(joined.events).toHaveLength(1); // from the unsaved state held in memory
    snapshots.down = false;
    await until(() => snapshots.stored.size > 0);
    for (let n = 2 * LIMIT; n < 4 * LIMIT; n++) await writer.decide(create(group(n)), meta('alice'), 1000);
    await until(() => snapshots.stored.has(group(1)));
    snapshots.down = true;
    await expect(writer.decide(join('carol', group(1)), meta('carol'), 1000)).rejects.toBeInstanceOf(UnavailableError);
    snapshots.down = false;
    expect((await writer.decide(join('carol', group(1)), meta('carol'), 1000)).events).toHaveLength(1);
  });

  it('reads a long log within its limit and decides on it as a writer that held everything', async () => {
    const log = new ControlledLog(1);
    const first = new PartitionWriter(0, { reopen: () => undefined });
    await open(first, log);
    for (let n = 0; n < 3 * LIMIT; n++) {
      await first.decide(create(group(n)), meta('alice'), 1000);
      await first.decide(send(`m${n}`, 'bob', group(n)), meta('bob'), 1000);
    }
    await first.decide(send('late', 'alice', group(0)), meta('alice'), 1000); // group 0 comes back after it left memory
    first.revoke();

    const snapshots = new MemorySnapshots();
    const writer = bounded(log, snapshots);
    await readSlowly(writer, log);
    expect(writer.conversationCount).toBeLessThanOrEqual(LIMIT);
    const next = await writer.decide(send('after', 'bob', group(0)), meta('bob'), 1000);
    expect(next.events).toMatchObject([{ type: 'MessageSent', data: { seq: 3 } }]);
    expect((await writer.decide(send('after', 'bob', group(5)), meta('bob'), 1000)).events).toMatchObject([{ data: { seq: 2 } }]);
  });

  it('goes on reading once a snapshot it needs can be read again', async () => {
    const log = new ControlledLog(1);
    const first = new PartitionWriter(0, { reopen: () => undefined });
    await open(first, log);
    for (let n = 0; n < 2 * LIMIT; n++) await first.decide(create(group(n)), meta('alice'), 1000);
    await first.decide(send('late', 'alice', group(0)), meta('alice'), 1000);
    first.revoke();

    const snapshots = new MemorySnapshots();
    const writer = bounded(log, snapshots);
    let failures = 0;
    const load = snapshots.load.bind(snapshots);
    snapshots.load = async (id) => (id === group(0) && failures++ === 0 ? Promise.reject(new Error('timed out')) : load(id));
    await readSlowly(writer, log);
    expect(failures).toBe(2);
    expect((await writer.decide(send('after', 'bob', group(0)), meta('bob'), 1000)).events).toMatchObject([{ data: { seq: 2 } }]);
  });

  it("skips, while reading, the events a previous writer's later snapshot already holds", async () => {
    const log = new ControlledLog(1);
    const raw = (conversationId: string, event: ConversationEvent) =>
      log.append(conversationId, [{ event, metadata: { eventId: `${conversationId}-${Math.random()}`, actorId: 'alice', occurredAt: NOW, causationId: 'c', correlationId: 'c' } }]);
    const created = async (conversationId: string) => {
      await raw(conversationId, { type: 'ConversationCreated', data: { conversationId, kind: 'GROUP', title: null, createdBy: 'alice', memberIds: [], createdAt: NOW } });
      await raw(conversationId, { type: 'UserJoined', data: { conversationId, userId: 'alice', joinedAt: NOW } });
    };
    await created(group(0));
    for (let n = 1; n <= 2 * LIMIT; n++) await created(group(n));
    // A message from before messages were numbered: counted by whoever applies it, so it must be applied once.
    const [late] = await raw(group(0), { type: 'MessageSent', data: { conversationId: group(0), messageId: 'm-old', clientMessageId: 'old', senderId: 'alice', body: 'old', sentAt: NOW } });
    for (let n = 2 * LIMIT + 1; n <= 4 * LIMIT; n++) await created(group(n));

    const snapshots = new MemorySnapshots();
    const previous = bounded(log, snapshots);
    await readSlowly(previous, log);
    await until(() => snapshots.stored.get(group(0))?.lastOffset === BigInt(late.offset)); // saved after its message
    previous.revoke();
    snapshots.loads.length = 0;

    const writer = bounded(log, snapshots);
    await readSlowly(writer, log);
    expect(snapshots.loads).toContain(group(0));
    const next = await writer.decide(send('after', 'alice', group(0)), meta('alice'), 1000);
    expect(next.events).toMatchObject([{ type: 'MessageSent', data: { seq: 2 } }]); // not 3: the old message counted once
  });

  describe('checkpoints', () => {
    /** Opens the partition as PartitionWriters does: from its checkpoint when it has one. Returns the offset read from. */
    async function openFromCheckpoint(writer: PartitionWriter, log: ControlledLog, snapshots: MemorySnapshots): Promise<bigint> {
      writer.opened(log.openAppender(0));
      writer.announceAgainFrom(null);
      const from = writer.readFromCheckpoint(writer.readsFromCheckpoints ? await snapshots.loadCheckpoint(0) : null);
      for (const event of await readToEnd(log)) {
        if (BigInt(event.position.offset) >= from) await writer.apply({ partition: 0, events: [event], highWatermark: '0', nextOffset: '0' });
      }
      writer.caughtUp(BigInt((await log.endOffsets()).get(0)!));
      return from;
    }

    async function history(log: ControlledLog, snapshots: MemorySnapshots) {
      const first = bounded(log, snapshots);
      await open(first, log);
      for (let n = 0; n < 3 * LIMIT; n++) {
        await first.decide(create(group(n)), meta('alice'), 1000);
        await first.decide(send(`m${n}`, 'bob', group(n)), meta('bob'), 1000);
      }
      // Older than any snapshot's window: only the message-id filters know these were sent.
      for (let n = 0; n < RECENT_MESSAGES + 2; n++) await first.decide(send(`old${n}`, 'bob', group(5)), meta('bob'), 1000);
      await until(() => snapshots.stored.size >= 2 * LIMIT);
      await first.checkpoint();
      const through = snapshots.checkpoints.get(0)!.through;
      await first.decide(send('after', 'alice', group(0)), meta('alice'), 1000); // after the checkpoint
      await first.decide(create(group(999)), meta('alice'), 1000);
      first.revoke();
      return through;
    }

    it('lets a new writer read only the log after the checkpoint and decide as one that read it all', async () => {
      const log = new ControlledLog(1);
      const snapshots = new MemorySnapshots();
      const through = await history(log, snapshots);
      expect(through).toBe(BigInt(3 * LIMIT * 4 + RECENT_MESSAGES + 2)); // every event of the 30 conversations (3 created, 1 message each), and the old messages

      const writer = bounded(log, snapshots);
      expect(await openFromCheckpoint(writer, log, snapshots)).toBe(through);
      expect((await writer.decide(send('next', 'bob', group(0)), meta('bob'), 1000)).events).toMatchObject([{ data: { seq: 3 } }]);
      expect((await writer.decide(send('next', 'bob', group(LIMIT + 5)), meta('bob'), 1000)).events).toMatchObject([{ data: { seq: 2 } }]);
      const retry = await writer.decide(send('m7', 'bob', group(7)), meta('bob'), 1000); // sent before the checkpoint
      expect(retry.events).toEqual([]);
      expect(retry.message ?? findMessage(retry.after, messageIdFor(group(7), 'bob', 'm7'))).toMatchObject({ body: 'body m7' });
      const old = await writer.decide(send('old0', 'bob', group(5)), meta('bob'), 1000); // out of the window: the filters say it may have been sent
      expect(old.events).toEqual([]);
      expect(old.message).toMatchObject({ body: 'body old0' });
      expect(await membership(writer, group(999), 'bob')).toBe(NOW);
      await expect(writer.decide(create(group(999)), meta('alice'), 1000)).rejects.toThrow(/already used/);
      expect((await readToEnd(log)).filter((e) => e.event.type === 'MessageSent')).toHaveLength(3 * LIMIT + 3 + RECENT_MESSAGES + 2);
    });

    it('saves the state before a decision whose append is in flight, and that decision at the next checkpoint', async () => {
      const log = new ControlledLog(1);
      const snapshots = new MemorySnapshots();
      const writer = bounded(log, snapshots);
      await open(writer, log);
      await writer.decide(create(group(0)), meta('alice'), 1000);
      log.hold();
      const sending = writer.decide(send('m0', 'alice', group(0)), meta('alice'), 1000);
      await until(() => log.requests.length === 2);
      await writer.checkpoint();
      expect(snapshots.stored.get(group(0))).toMatchObject({ snapshot: { messageCount: 0 }, lastOffset: 2n });
      expect(snapshots.checkpoints.get(0)!.through).toBe(3n);
      log.release();
      await sending;
      await writer.checkpoint();
      expect(snapshots.stored.get(group(0))).toMatchObject({ snapshot: { messageCount: 1 }, lastOffset: 3n });
      expect(snapshots.checkpoints.get(0)!.through).toBe(4n);
    });

    it('reads the whole partition when the checkpoint lacks a snapshot it needs', async () => {
      const log = new ControlledLog(1);
      const snapshots = new MemorySnapshots();
      await history(log, snapshots);
      snapshots.stored.delete(group(0));

      const rereads: bigint[] = [];
      const writer: PartitionWriter = new PartitionWriter(0, { reopen: () => void openFromCheckpoint(writer, log, snapshots).then((from) => rereads.push(from)) }, undefined, undefined, {
        snapshots,
        maxConversations: LIMIT,
      });
      rereads.push(await openFromCheckpoint(writer, log, snapshots));
      expect((await writer.decide(send('next', 'bob', group(0)), meta('bob'), 1000)).events).toMatchObject([{ data: { seq: 3 } }]);
      expect(rereads).toEqual([BigInt(3 * LIMIT * 4 + RECENT_MESSAGES + 2), 0n]);
    });
  });
});
