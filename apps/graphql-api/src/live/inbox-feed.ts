import { feedIterator, PushIterator, type LiveUpdates } from './live-updates';

export interface InboxFeedOptions<T> {
  readonly live: Pick<LiveUpdates, 'listen'>;
  readonly userId: string;
  /** The conversations in the user's inbox now. */
  readonly conversationIds: () => Promise<readonly string[]>;
  /** The user's entry of a conversation as the subscriber gets it; undefined: nothing to send. */
  readonly toPayload: (conversationId: string) => Promise<T | undefined>;
}

/**
 * A user's inbox entries as they change (docs/adr/0010): the projector announces a
 * conversation's new head once for all its members, and the user's own entry (joined, left,
 * read marker) for that user. The feed follows the heads of the user's conversations: those in
 * the inbox when it starts, and those the user joins while it runs; a leave stops following.
 * Listening starts before the inbox is read, so a join in between is not missed.
 */
export async function inboxFeed<T>({ live, userId, conversationIds, toPayload }: InboxFeedOptions<T>): Promise<AsyncIterableIterator<T>> {
  const heads = new Map<string, () => void>();
  // A conversation waits once however often it changes (its entry is read when sent): bounded by the user's conversations.
  const signals = new PushIterator<string>(
    () => {
      stopOwn();
      for (const stop of heads.values()) stop();
      heads.clear();
    },
    { key: (conversationId) => conversationId },
  );
  const follow = (conversationId: string) => {
    if (!heads.has(conversationId)) heads.set(conversationId, live.listen('inbox-head', conversationId, () => signals.push(conversationId)));
  };
  const stopOwn = live.listen('inbox', userId, (change) => {
    if (change.removed) {
      heads.get(change.conversationId)?.();
      heads.delete(change.conversationId);
      return; // an InboxEntry cannot describe a removal: nothing is sent
    }
    follow(change.conversationId);
    signals.push(change.conversationId);
  });
  try {
    for (const id of await conversationIds()) follow(id);
  } catch (err) {
    await signals.return();
    throw err;
  }

  return feedIterator(
    signals,
    (async function* () {
      for await (const conversationId of signals) {
        const payload = await toPayload(conversationId);
        if (payload !== undefined) yield payload;
      }
    })(),
  );
}
