import type { PresenceView } from '../presence';
import { feedIterator, PushIterator, type LiveUpdates } from './live-updates';

export interface PresenceFeedOptions<T> {
  readonly live: Pick<LiveUpdates, 'follow' | 'listen'>;
  readonly conversationId: string;
  readonly viewerId: string;
  /** Whether the user whose presence changed is a member of the conversation. */
  readonly isMember: (userId: string) => Promise<boolean>;
  /**
   * The viewer's membership as the conversation's writer holds it now (when they joined, or null):
   * asked once the feed listens, and again after the channel was lost for a moment (a `left` may have been).
   */
  readonly membership: () => Promise<string | null>;
  readonly toPayload: (presence: PresenceView) => T;
  /** The feed's last value: the viewer left (or was removed). */
  readonly toEnd: () => T;
}

type Signal = { readonly kind: 'presence'; readonly presence: PresenceView } | { readonly kind: 'left' } | { readonly kind: 'resync' };

/**
 * Presence changes of a conversation's members, for one subscriber, in the order they were
 * heard, until the viewer leaves: the conversation's channel carries the leave (docs/adr/0009),
 * on every instance at once, and the feed ends there with `toEnd`. A leave from before the feed
 * listened, or lost while the channel was, is the writer's to tell (`membership`).
 */
export async function presenceFeed<T>({ live, conversationId, viewerId, isMember, membership, toPayload, toEnd }: PresenceFeedOptions<T>): Promise<AsyncIterableIterator<T>> {
  // A member's presence waits once (the newest): bounded by the users heard.
  const signals = new PushIterator<Signal>(
    () => {
      stopPresence();
      stopConversation();
    },
    { key: (signal) => (signal.kind === 'presence' ? signal.presence.userId : undefined) },
  );
  const stopPresence = live.listen('presence', '*', (presence) => signals.push({ kind: 'presence', presence }));
  let stopConversation: () => void = () => undefined;
  try {
    stopConversation = await live.follow(conversationId, (signal) => {
      if (signal.kind === 'left' && signal.userId === viewerId) signals.push({ kind: 'left' });
      else if (signal.kind === 'resync') signals.push({ kind: 'resync' });
    });
  } catch (err) {
    await signals.return();
    throw err;
  }
  let joinedAt: string | null;
  try {
    joinedAt = await membership();
  } catch (err) {
    await signals.return();
    throw err;
  }
  const stillMember = async () => joinedAt !== null && (await membership().catch(() => null)) === joinedAt;

  return feedIterator(
    signals,
    (async function* () {
      if (joinedAt === null) {
        yield toEnd();
        return;
      }
      for await (const signal of signals) {
        if (signal.kind === 'left' || (signal.kind === 'resync' && !(await stillMember()))) {
          yield toEnd();
          return;
        }
        if (signal.kind === 'resync') continue;
        if (await isMember(signal.presence.userId)) yield toPayload(signal.presence);
      }
    })(),
  );
}
