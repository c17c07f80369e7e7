import type { LiveMessage } from '@parley/redis';
import { feedIterator, PushIterator, type ConversationSignal, type LiveUpdates } from './live-updates';

/** Where a feed hears its conversation (LiveUpdates). */
export type ConversationFollower = Pick<LiveUpdates, 'follow'>;

/** The timeline as a feed reads it. */
export interface TimelineSource {
  /** The conversation's newest message, or null when it has none. */
  head(conversationId: string): Promise<LiveMessage | null>;
  /** Messages after `offset`, oldest first, at most `limit`, and whether more follow. */
  after(conversationId: string, offset: bigint, limit: number): Promise<{ readonly messages: readonly LiveMessage[]; readonly more: boolean }>;
}

/** Why a feed ended: the viewer left (or was removed), or messages went missing and the client must resume from `after`. */
export type FeedEnd = { readonly reason: 'left' } | { readonly reason: 'resume'; readonly after: LiveMessage | null };

export interface FeedOptions<T> {
  readonly live: ConversationFollower;
  readonly timeline: TimelineSource;
  readonly conversationId: string;
  readonly viewerId: string;
  /**
   * The viewer's membership as the conversation's writer holds it now: when they joined, or null
   * when they are not a member. Asked once the feed listens (a leave announced before that is not
   * heard on the channel) and again before a gap is filled (the leave may be what went missing).
   */
  readonly membership: () => Promise<string | null>;
  /** The cursor's offset: every message after it first, then live ones. Without it, messages from now on. */
  readonly after?: bigint;
  readonly toPayload: (message: LiveMessage) => T;
  /** The feed's last value before it ends. */
  readonly toEnd: (end: FeedEnd) => T;
  /** How long a gap may wait for the timeline to fill it before the subscriber is told to resume. */
  readonly fillTimeoutMs?: number;
  /**
   * Notifications that may wait for a slow subscriber; one more drops them all, and the feed
   * catches up from the timeline instead (as after a Redis reconnection): memory stays bounded
   * and nothing is skipped.
   */
  readonly queueLimit?: number;
}

const PAGE = 200;
const FILL_POLL_MS = 50;

/**
 * A conversation's messages for one subscriber, gapless by construction (docs/adr/0009):
 * each message carries its number in the conversation (`seq`); a duplicate is dropped, and a
 * gap (a message lost in Redis, a writer that died before announcing, a reconnection) is
 * filled from the timeline, which holds every announced message before its announcement,
 * before anything later is delivered. A gap the timeline cannot fill within the timeout ends
 * the feed with `resume` and the last message delivered: never a silent gap. The viewer
 * leaving ends it too, and the channel's order puts the leave before any later message.
 *
 * Listening starts before the timeline is read, so nothing falls between the two; and before
 * the viewer's membership is confirmed with the conversation's writer, so a leave decided
 * before that is known and one after it comes on the channel. A gap is filled only once the
 * writer says the viewer is still the member they were: a leave may have been lost with it.
 */
export async function messageFeed<T>(options: FeedOptions<T>): Promise<AsyncIterableIterator<T>> {
  const { live, timeline, conversationId, viewerId, membership, after, toPayload, toEnd, fillTimeoutMs = 5_000, queueLimit = 1_000 } = options;
  const signals = new PushIterator<ConversationSignal>(() => stop(), { limit: queueLimit, overflow: () => ({ kind: 'resync' }) });
  const stop = await live.follow(conversationId, (signal) => signals.push(signal));
  const failed = (err: unknown) => {
    stop();
    throw err;
  };
  // Listening now: every leave from here on comes on the channel; the writer knows those before.
  const joinedAt = await membership().catch(failed);

  /**
   * The last message delivered, or where the feed starts: after the cursor (its number not known
   * yet), or after the newest message when it subscribed (read now, not when first pulled).
   */
  let last: { offset: bigint; seq: number | null; message: LiveMessage | null };
  if (after !== undefined) {
    last = { offset: after, seq: null, message: null };
  } else {
    const head = joinedAt === null ? null : await timeline.head(conversationId).catch(failed);
    last = head ? { offset: BigInt(head.offset), seq: head.seq, message: head } : { offset: -1n, seq: 0, message: null };
  }

  /** Delivers what the timeline holds after `last`, below `before`; true once it reaches `seq` (unknown: whatever it holds). */
  async function* fill(before?: LiveMessage): AsyncGenerator<T, boolean> {
    const deadline = Date.now() + fillTimeoutMs;
    for (;;) {
      let more = true;
      while (more) {
        const page = await timeline.after(conversationId, last.offset, PAGE);
        more = page.more;
        for (const m of page.messages) {
          if (before && BigInt(m.offset) >= BigInt(before.offset)) {
            more = false;
            break;
          }
          last = { offset: BigInt(m.offset), seq: m.seq, message: m };
          yield toPayload(m);
        }
        if (page.messages.length === 0) more = false;
      }
      if (!before || last.seq === null || last.seq >= before.seq - 1) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, FILL_POLL_MS));
    }
  }

  /** Before a gap is filled: whether the viewer is still the member they were (a lost `left`, or a leave and a rejoin, in the gap). */
  async function stillMember(): Promise<FeedEnd | null> {
    try {
      return (await membership()) === joinedAt ? null : { reason: 'left' };
    } catch {
      return { reason: 'resume', after: last.message };
    }
  }

  async function* deliver(): AsyncGenerator<T> {
    if (joinedAt === null) {
      yield toEnd({ reason: 'left' });
      return;
    }
    if (after !== undefined) yield* fill(); // the history
    for await (const signal of signals) {
      if (signal.kind === 'resync') {
        const end = await stillMember();
        if (end) {
          yield toEnd(end);
          return;
        }
        yield* fill();
      } else if (signal.kind === 'left') {
        if (signal.userId !== viewerId || BigInt(signal.offset) <= last.offset) continue;
        yield toEnd({ reason: 'left' });
        return;
      } else {
        const m = signal.message;
        if (BigInt(m.offset) <= last.offset) continue; // delivered already
        if (last.seq === null || m.seq !== last.seq + 1) {
          const end = await stillMember();
          if (end) {
            yield toEnd(end);
            return;
          }
          if (!(yield* fill(m))) {
            yield toEnd({ reason: 'resume', after: last.message });
            return;
          }
        }
        last = { offset: BigInt(m.offset), seq: m.seq, message: m };
        yield toPayload(m);
      }
    }
  }

  return feedIterator(signals, deliver());
}
