import type { PresenceView } from '../presence';
import { feedIterator, PushIterator, type LiveUpdates } from './live-updates';

export interface PresenceFeedOptions<T> {
  readonly live: Pick<LiveUpdates, 'follow' | 'listen'>;
  readonly conversationId: string;
  readonly viewerId: string;
  /** Whether the user whose presence changed is a member of the conversation. */
  readonly isMember: (userId: string) => Promise<boolean>;
  readonly toPayload: (presence: PresenceView) => T;
  /** The feed's last value: the viewer left (or was removed). */
  readonly toEnd: () => T;
}

type Signal = { readonly kind: 'presence'; readonly presence: PresenceView } | { readonly kind: 'left' };

/**
 * Presence changes of a conversation's members, for one subscriber, in the order they were
 * heard, until the viewer leaves: the conversation's channel carries the leave (docs/adr/0009),
 * on every instance at once, and the feed ends there with `toEnd`.
 */
export async function presenceFeed<T>({ live, conversationId, viewerId, isMember, toPayload, toEnd }: PresenceFeedOptions<T>): Promise<AsyncIterableIterator<T>> {
  const signals = new PushIterator<Signal>(() => {
    stopPresence();
    stopConversation();
  });
  const stopPresence = live.listen('presence', '*', (presence) => signals.push({ kind: 'presence', presence }));
  let stopConversation: () => void = () => undefined;
  try {
    stopConversation = await live.follow(conversationId, (signal) => {
      if (signal.kind === 'left' && signal.userId === viewerId) signals.push({ kind: 'left' });
    });
  } catch (err) {
    await signals.return();
    throw err;
  }

  return feedIterator(
    signals,
    (async function* () {
      for await (const signal of signals) {
        if (signal.kind === 'left') {
          yield toEnd();
          return;
        }
        if (await isMember(signal.presence.userId)) yield toPayload(signal.presence);
      }
    })(),
  );
}
