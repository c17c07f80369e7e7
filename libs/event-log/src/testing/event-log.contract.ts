// The contract every EventLog adapter passes: run by the in-memory unit spec and the Kafka
// integration spec, so the fake cannot drift from the real thing.
import type { ConversationEvent } from '@parley/domain';
import { waitFor } from '@parley/testing';
import type { EventConsumer, GroupAwareEventLog, NewEvent, PartitionAppender, PartitionOffsets, RecordedEvent } from '../event-log.port';
import { readToEnd } from '../read-to-end';

export interface EventLogFixture {
  log: GroupAwareEventLog;
  teardown(): Promise<void>;
}

let sequence = 0;

export function messageSent(conversationId: string, body: string, occurredAt = new Date().toISOString()): NewEvent {
  const messageId = `m_${(++sequence).toString(36).padStart(8, '0')}_${Math.random().toString(36).slice(2, 8)}`;
  const event: ConversationEvent = {
    type: 'MessageSent',
    data: { conversationId, messageId, clientMessageId: `c${sequence}`, senderId: 'alice', body, sentAt: occurredAt },
  };
  return { event, metadata: { eventId: messageId, actorId: 'alice', occurredAt, causationId: `cmd-${sequence}`, correlationId: 'corr' } };
}

const bodies = (events: readonly RecordedEvent[], conversationId: string) =>
  events.filter((e) => e.conversationId === conversationId).map((e) => (e.event.type === 'MessageSent' ? e.event.data.body : e.event.type));

export function describeEventLogContract(name: string, setup: () => Promise<EventLogFixture>): void {
  describe(`EventLog contract: ${name}`, () => {
    let fixture: EventLogFixture;
    let log: GroupAwareEventLog;

    beforeEach(async () => {
      fixture = await setup();
      log = fixture.log;
    });
    afterEach(() => fixture.teardown());

    it('appends in order, returning consecutive positions in the conversation\'s partition', async () => {
      const conversation = 'g_contractorder000000000001';
      const before = await log.endOffsets();
      const positions = await log.append(conversation, [messageSent(conversation, 'one'), messageSent(conversation, 'two')]);
      const partition = log.partitionFor(conversation);
      const start = BigInt(before.get(partition)!);
      expect(positions).toEqual([
        { partition, offset: start.toString() },
        { partition, offset: (start + 1n).toString() },
      ]);
      expect((await log.endOffsets()).get(partition)).toBe((start + 2n).toString());
    });

    it('reads back every event with its metadata, in order per conversation', async () => {
      const a = 'g_contractreadaaaaaaaaaaaaa';
      const b = 'g_contractreadbbbbbbbbbbbbb';
      const first = messageSent(a, 'a1');
      await log.append(a, [first]);
      await Promise.all([log.append(b, [messageSent(b, 'b1')]), log.append(a, [messageSent(a, 'a2')])]);
      await log.append(b, [messageSent(b, 'b2'), messageSent(b, 'b3')]);
      await log.append(a, [messageSent(a, 'a3')]);

      const events = await readToEnd(log);
      expect(bodies(events, a)).toEqual(['a1', 'a2', 'a3']);
      expect(bodies(events, b)).toEqual(['b1', 'b2', 'b3']);
      const readFirst = events.find((e) => e.metadata.eventId === first.metadata.eventId)!;
      expect(readFirst).toMatchObject({ event: first.event, metadata: first.metadata, conversationId: a, schemaVersion: 1 });
      expect(readFirst.position.partition).toBe(log.partitionFor(a));
    });

    it('reads from given offsets, inclusive, and stops at the end captured when the read began', async () => {
      const conversation = 'g_contractfrom0000000000000';
      const [, second] = await log.append(conversation, ['x', 'y', 'z'].map((body) => messageSent(conversation, body)));
      const from = new Map((await log.endOffsets()).entries());
      from.set(second.partition, second.offset);
      const events = await readToEnd(log, from);
      expect(bodies(events, conversation)).toEqual(['y', 'z']);
    });

    it('finds the first offset at or after a time', async () => {
      const conversation = 'g_contracttime0000000000000';
      const base = Date.parse('2026-01-01T00:00:00.000Z');
      const at = (s: number) => new Date(base + s * 1000).toISOString();
      await log.append(conversation, [messageSent(conversation, 't0', at(0)), messageSent(conversation, 't10', at(10)), messageSent(conversation, 't20', at(20))]);
      const events = await readToEnd(log, await log.offsetsForTime(base + 5_000));
      expect(bodies(events, conversation)).toEqual(['t10', 't20']);
      const none = await readToEnd(log, await log.offsetsForTime(base + 60_000));
      expect(bodies(none, conversation)).toEqual([]);
    });

    it('follows the log: a live consumer receives events appended after it started', async () => {
      const conversation = 'g_contractfollow00000000000';
      const seen: string[] = [];
      const consumer = await log.consume({ from: 'latest' }, async (batch) => {
        seen.push(...bodies(batch.events, conversation));
      });
      try {
        // 'latest' is resolved when the consumer joins; append until it has seen one, then check order.
        await waitFor('the consumer to see a live event', async () => {
          if (seen.length === 0) await log.append(conversation, [messageSent(conversation, 'probe')]);
          return seen.length > 0;
        }, { timeoutMs: 30_000, intervalMs: 250 });
        await log.append(conversation, [messageSent(conversation, 'live-1'), messageSent(conversation, 'live-2')]);
        await waitFor('both live events', () => seen.includes('live-2'), { timeoutMs: 30_000 });
        expect(seen.slice(-2)).toEqual(['live-1', 'live-2']);
      } finally {
        await consumer.stop();
      }
    });

    it('holds back only the partition whose handler is still running', async () => {
      // The slow partition comes first: a consumer handing partitions over in turn would never reach the other.
      const [slow, ...others] = Array.from({ length: 20 }, (_, i) => `g_contractholdback${i.toString().padStart(9, '0')}`).sort(
        (a, b) => log.partitionFor(a) - log.partitionFor(b),
      );
      const fast = others.find((c) => log.partitionFor(c) !== log.partitionFor(slow))!;
      await log.append(slow, [messageSent(slow, 's1')]);
      await log.append(fast, [messageSent(fast, 'f1')]);
      const seen: string[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const consumer = await log.consume({ from: 'earliest', until: await log.endOffsets() }, async (batch) => {
        seen.push(...bodies(batch.events, fast));
        if (batch.partition === log.partitionFor(slow)) {
          await released;
          seen.push(...bodies(batch.events, slow));
        }
      });
      try {
        await waitFor('the other partition to be read while one handler waits', () => seen.includes('f1'), { timeoutMs: 30_000 });
        expect(seen).not.toContain('s1');
        release();
        await consumer.done;
        expect(seen).toContain('s1');
      } finally {
        release();
        await consumer.stop();
      }
    });

    it('rejects `done` when the handler throws, and stops', async () => {
      const conversation = 'g_contractfail0000000000000';
      await log.append(conversation, [messageSent(conversation, 'boom')]);
      const consumer = await log.consume({ from: 'earliest', until: await log.endOffsets() }, async () => {
        throw new Error('projection failed');
      });
      await expect(consumer.done).rejects.toThrow('projection failed');
    });

    it('refuses an event of another conversation, appending nothing', async () => {
      const before = await log.endOffsets();
      await expect(log.append('g_contractone00000000000000', [messageSent('g_contracttwo00000000000000', 'x')])).rejects.toThrow(/belongs to/);
      expect(await log.endOffsets()).toEqual(before);
    });

    describe('consumer groups', () => {
      /** Joins the group and records its assignments and what it reads; `from` says where to read each assigned partition. */
      async function reader(group: string, from: (partitions: readonly number[]) => Promise<PartitionOffsets> = async () => new Map()) {
        const seen = { assigned: [] as number[][], events: [] as RecordedEvent[] };
        const consumer: EventConsumer = await log.consumeInGroup(
          {
            name: group,
            assigned: async (partitions) => {
              seen.assigned.push([...partitions]);
              return from(partitions);
            },
          },
          async (batch, held) => {
            if (await held()) seen.events.push(...batch.events);
          },
        );
        return { consumer, seen };
      }

      it('gives a lone member every partition, read from the offsets it names, and follows the log', async () => {
        const conversation = 'g_contractgroupalone00000000';
        const [, second] = await log.append(conversation, ['a1', 'a2'].map((body) => messageSent(conversation, body)));
        const group = `contract-group-alone-${Date.now()}`;
        const { consumer, seen } = await reader(group, async () => new Map([[second.partition, second.offset]]));
        try {
          await waitFor('the events from the named offset', () => bodies(seen.events, conversation).includes('a2'), { timeoutMs: 30_000 });
          expect(seen.assigned.at(-1)).toEqual(Array.from({ length: log.partitionCount }, (_, p) => p));
          await log.append(conversation, [messageSent(conversation, 'a3')]);
          await waitFor('a live event', () => bodies(seen.events, conversation).includes('a3'), { timeoutMs: 30_000 });
          expect(bodies(seen.events, conversation)).toEqual(['a2', 'a3']);
          expect(await log.groupMembers(group)).toBe(1);
        } finally {
          await consumer.stop();
        }
        await waitFor('the member to have left', async () => (await log.groupMembers(group)) === 0, { timeoutMs: 15_000 });
      });

      it('shares the partitions between members; when one leaves, the other reads its partitions from where it says', async () => {
        const group = `contract-group-share-${Date.now()}`;
        const all = Array.from({ length: log.partitionCount }, (_, p) => p);
        const first = await reader(group);
        const second = await reader(group);
        try {
          const latest = (r: typeof first) => r.seen.assigned.at(-1) ?? [];
          await waitFor('the partitions to be shared', () => {
            const [a, b] = [latest(first), latest(second)];
            return a.length > 0 && b.length > 0 && [...a, ...b].sort().join() === all.join();
          }, { timeoutMs: 30_000, intervalMs: 100 });
          const conversation = `g_contractgroup${'0'.repeat(13)}`;
          const [position] = await log.append(conversation, [messageSent(conversation, 'shared')]);
          const owner = latest(first).includes(position.partition) ? first : second;
          const other = owner === first ? second : first;
          await waitFor('its owner to read the event', () => bodies(owner.seen.events, conversation).length === 1, { timeoutMs: 30_000 });
          expect(bodies(other.seen.events, conversation)).toEqual([]);

          await owner.consumer.stop();
          await waitFor('the other member to take every partition', () => latest(other).join() === all.join(), { timeoutMs: 30_000, intervalMs: 100 });
          await log.append(conversation, [messageSent(conversation, 'after')]);
          // It was told to read from each partition's start: it reads the whole partition.
          await waitFor('the other member to read the partition', () => bodies(other.seen.events, conversation).includes('after'), { timeoutMs: 30_000 });
          expect(bodies(other.seen.events, conversation)).toEqual(['shared', 'after']);
        } finally {
          await Promise.all([first.consumer.stop(), second.consumer.stop()]);
        }
      });
    });

    describe('partition ownership', () => {
      /** Joins the writers' group and records what it is told; `stop` closes every appender it opened, then leaves. */
      async function member(group: string, address: string, fencing: 'lease' | 'transaction' = 'lease') {
        const seen = { assigned: [] as number[][], events: [] as RecordedEvent[], caughtUp: new Map<number, bigint>() };
        const joined = await log.own(
          { group, address, fencing },
          {
            assigned: (partitions) => seen.assigned.push([...partitions]),
            events: (batch) => void seen.events.push(...batch.events),
            caughtUp: (partition, next) => seen.caughtUp.set(partition, next),
          },
        );
        const appenders: PartitionAppender[] = [];
        const ownership = {
          ...joined,
          reread: (partition: number, from?: bigint) => joined.reread(partition, from),
          owners: () => joined.owners(),
          openAppender: async (partition: number) => {
            const appender = await joined.openAppender(partition);
            appenders.push(appender);
            return appender;
          },
          stop: async () => {
            await Promise.all(appenders.map((a) => a.close().catch(() => undefined)));
            await joined.stop();
          },
        };
        return { ownership, seen };
      }

      it('gives a lone member every partition, and publishes its address as their owner', async () => {
        const { ownership, seen } = await member(`contract-owners-${Date.now()}`, '127.0.0.1:1');
        try {
          const all = Array.from({ length: log.partitionCount }, (_, p) => p);
          await waitFor('an assignment', () => seen.assigned.length > 0);
          expect(seen.assigned.at(-1)).toEqual(all);
          await waitFor('the owners to be published', async () => (await ownership.owners()).size === log.partitionCount, { timeoutMs: 15_000 });
          expect(new Set((await ownership.owners()).values())).toEqual(new Set(['127.0.0.1:1']));
        } finally {
          await ownership.stop();
        }
      });

      it.each(['lease', 'transaction'] as const)('rereads a partition after opening its appender (%s fencing), up to the end, markers included', async (fencing) => {
        const conversation = `g_contractreread${fencing.padEnd(11, '0')}`;
        const { ownership, seen } = await member(`contract-reread-${fencing}-${Date.now()}`, '127.0.0.1:2', fencing);
        try {
          const partition = log.partitionFor(conversation);
          await waitFor('an assignment', () => seen.assigned.length > 0);
          const previous = await ownership.openAppender(partition);
          const positions = await previous.append([messageSent(conversation, 'r1'), messageSent(conversation, 'r2')]);
          expect(BigInt(positions[1].offset)).toBe(BigInt(positions[0].offset) + 1n);
          // A takeover: open (with transactions this waits until the previous holder's last
          // commit is complete and visible), then read.
          const appender = await ownership.openAppender(partition);
          await ownership.reread(partition);
          await waitFor('the partition to be read', () => seen.caughtUp.has(partition), { timeoutMs: 15_000 });
          expect(bodies(seen.events, conversation)).toEqual(['r1', 'r2']);
          const end = BigInt((await log.endOffsets()).get(partition)!);
          expect(seen.caughtUp.get(partition)).toBe(end);
          expect(end).toBe(BigInt(positions[1].offset) + 1n + BigInt(appender.offsetsAfterAppend));
        } finally {
          await ownership.stop();
        }
      });

      it('rereads a partition from a given offset to its end', async () => {
        const conversation = 'g_contractrereadfrom00000000';
        const { ownership, seen } = await member(`contract-reread-from-${Date.now()}`, '127.0.0.1:4');
        try {
          const partition = log.partitionFor(conversation);
          await waitFor('an assignment', () => seen.assigned.length > 0);
          const appender = await ownership.openAppender(partition);
          const positions = await appender.append([messageSent(conversation, 'f1'), messageSent(conversation, 'f2'), messageSent(conversation, 'f3')]);
          await ownership.reread(partition, BigInt(positions[1].offset));
          await waitFor('the partition to be read', () => seen.caughtUp.has(partition), { timeoutMs: 15_000 });
          expect(bodies(seen.events, conversation)).toEqual(['f2', 'f3']);
        } finally {
          await ownership.stop();
        }
      });

      it('with transaction fencing, fences an appender once a newer one is opened: its appends fail and land nowhere', async () => {
        const conversation = 'g_contractfence000000000000';
        const { ownership, seen } = await member(`contract-fence-${Date.now()}`, '127.0.0.1:3', 'transaction');
        try {
          await waitFor('an assignment', () => seen.assigned.length > 0);
          const partition = log.partitionFor(conversation);
          const old = await ownership.openAppender(partition);
          await old.append([messageSent(conversation, 'before')]);
          const newer = await ownership.openAppender(partition);
          await expect(old.append([messageSent(conversation, 'stale')])).rejects.toMatchObject({ name: 'FencedError' });
          await newer.append([messageSent(conversation, 'after')]);
          // A commit is acknowledged before its marker is written: readers see it a moment later.
          let logged: string[] = [];
          await waitFor('the last append to be readable', async () => (logged = bodies(await readToEnd(log), conversation)).length >= 2, { timeoutMs: 10_000 });
          expect(logged).toEqual(['before', 'after']);
        } finally {
          await ownership.stop();
        }
      });
    });
  });
}
