import type { LiveMessage, PartitionNotifications } from '@parley/redis';
import { LiveLane, type AppendedEvent, type LiveChannels, type LiveTimeline } from './live-lane';

const GROUP = 'g_01jnfx3c9m8q2v7k4x6b5n1t0r';
const AT = '2026-12-03T10:00:00.000Z';
const sent = (offset: number, seq: number, partition = 3): AppendedEvent => ({
  event: { type: 'MessageSent', data: { conversationId: GROUP, messageId: `m${seq}`, clientMessageId: `c${seq}`, senderId: 'alice', body: `b${seq}`, sentAt: AT, seq } },
  position: { partition, offset: String(offset) },
});
const left = (offset: number): AppendedEvent => ({
  event: { type: 'UserLeft', data: { conversationId: GROUP, userId: 'bob', leftAt: AT } },
  position: { partition: 3, offset: String(offset) },
});
const marker = (offset: number): AppendedEvent => ({
  event: { type: 'ReadMarkerMoved', data: { conversationId: GROUP, userId: 'bob', upTo: { partition: 3, offset: '1' }, movedAt: AT } },
  position: { partition: 3, offset: String(offset) },
});

/** Records what reached the timeline and the channels, in one journal, so the order shows. */
class Recorder implements LiveTimeline, LiveChannels {
  readonly journal: string[] = [];
  failures = 0;
  private readonly marks = new Map<number, bigint>();
  private waiters: Array<() => void> = [];

  readonly calls: string[] = [];

  async write(messages: readonly LiveMessage[]): Promise<void> {
    this.calls.push(`write ${messages.length}`);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('storage down');
    }
    this.journal.push(...messages.map((m) => `row ${m.offset} seq ${m.seq}`));
  }

  async publish(batches: readonly PartitionNotifications[]): Promise<void> {
    this.calls.push(`publish ${batches.map((b) => b.partition).join(',')}`);
    for (const { partition, notifications, nextOffset } of batches) {
      this.journal.push(...notifications.map((n) => (n.kind === 'message' ? `message ${n.message.offset}` : `left ${n.userId} ${n.offset}`)));
      this.marks.set(partition, nextOffset);
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  async publishedThrough(partition: number): Promise<bigint | null> {
    return this.marks.get(partition) ?? null;
  }

  async close(): Promise<void> {}

  async until(partition: number, offset: bigint): Promise<void> {
    const deadline = Date.now() + 5_000;
    while ((this.marks.get(partition) ?? -1n) < offset) {
      if (Date.now() > deadline) throw new Error(`partition ${partition} not published through ${offset}: ${this.journal.join(', ')}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

describe('LiveLane', () => {
  it('writes each message to the timeline before announcing it, in log order, and records how far the partition is announced', async () => {
    const recorder = new Recorder();
    const lane = new LiveLane(recorder, recorder);
    lane.appended(3, [sent(10, 1), marker(11), sent(12, 2)]);
    lane.appended(3, [left(13)]);
    await recorder.until(3, 14n);

    expect(recorder.journal).toStrictEqual(['row 10 seq 1', 'row 12 seq 2', 'message 10', 'message 12', 'left bob 13']);
    expect(await lane.publishedThrough(3)).toBe(14n);
    await lane.stop();
  });

  it('retries a failed write; what was acknowledged meanwhile follows it, never overtakes it', async () => {
    const recorder = new Recorder();
    recorder.failures = 2;
    const lane = new LiveLane(recorder, recorder, () => 1);
    lane.appended(3, [sent(10, 1)]);
    await new Promise((resolve) => setImmediate(resolve)); // the first delivery is under way (and failing)
    lane.appended(3, [sent(11, 2)]);
    await recorder.until(3, 12n);

    expect(recorder.journal).toStrictEqual(['row 10 seq 1', 'message 10', 'row 11 seq 2', 'message 11']);
    expect(recorder.calls).toStrictEqual(['write 1', 'write 1', 'write 1', 'publish 3', 'write 1', 'publish 3']);
    await lane.stop();
  });

  it("delivers what several partitions' writers acknowledged together in one write and one publish", async () => {
    const recorder = new Recorder();
    const lane = new LiveLane(recorder, recorder);
    lane.appended(3, [sent(10, 1)]);
    lane.appended(5, [sent(40, 7, 5)]);
    lane.appended(3, [sent(11, 2)]);
    await recorder.until(3, 12n);

    expect(recorder.calls).toStrictEqual(['write 3', 'publish 3,5,3']);
    expect(recorder.journal).toStrictEqual(['row 10 seq 1', 'row 40 seq 7', 'row 11 seq 2', 'message 10', 'message 40', 'message 11']);
    expect([await lane.publishedThrough(3), await lane.publishedThrough(5)]).toStrictEqual([12n, 41n]);
    await lane.stop();
  });

  it('announces nothing for events subscribers do not follow', async () => {
    const recorder = new Recorder();
    const lane = new LiveLane(recorder, recorder);
    lane.appended(3, [marker(10)]);
    await lane.stop();

    expect(recorder.journal).toStrictEqual([]);
    expect(await lane.publishedThrough(3)).toBeNull();
  });
});
