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
  /** The timeline version serving now. */
  version = 1;
  /** Per partition, the last run of written rows announced: `v<version> [from, to)`. */
  readonly runs = new Map<number, string>();

  async write(messages: readonly LiveMessage[]): Promise<number> {
    this.calls.push(`write ${messages.length}`);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('storage down');
    }
    this.journal.push(...messages.map((m) => `row ${m.offset} seq ${m.seq}`));
    return this.version;
  }

  async publish(batches: readonly PartitionNotifications[]): Promise<void> {
    this.calls.push(`publish ${batches.map((b) => b.partition).join(',')}`);
    for (const { partition, notifications, nextOffset, written } of batches) {
      this.journal.push(...notifications.map((n) => (n.kind === 'message' ? `message ${n.message.offset}` : `left ${n.userId} ${n.offset}`)));
      this.marks.set(partition, nextOffset);
      this.runs.set(partition, `v${written.version} [${written.from}, ${nextOffset})`);
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

  it('tells the projector since when every message of the partition has its rows written, a run the appends extend', async () => {
    const recorder = new Recorder();
    const lane = new LiveLane(recorder, recorder);
    lane.appended(3, [sent(10, 1), marker(11)]);
    lane.appended(3, [marker(12)]); // nothing to announce: the run goes on over it
    lane.appended(3, [sent(13, 2)]);
    await recorder.until(3, 14n);
    expect(recorder.runs.get(3)).toBe('v1 [10, 14)');

    lane.appended(3, [sent(14, 3)]);
    await recorder.until(3, 15n);
    expect(recorder.runs.get(3)).toBe('v1 [10, 15)');
    await lane.stop();
  });

  it('starts the run again after an interruption (a failed append may be in the log unwritten) and on another timeline version', async () => {
    const recorder = new Recorder();
    const lane = new LiveLane(recorder, recorder);
    lane.appended(3, [sent(10, 1)]);
    await recorder.until(3, 11n);
    lane.interrupted(3);
    lane.appended(3, [sent(12, 3)]);
    await recorder.until(3, 13n);
    expect(recorder.runs.get(3)).toBe('v1 [12, 13)');

    recorder.version = 2; // a rebuilt version serves now
    lane.appended(3, [sent(13, 4)]);
    await recorder.until(3, 14n);
    expect(recorder.runs.get(3)).toBe('v2 [13, 14)');
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
