import type { Client } from 'cassandra-driver';
import { checkpointsPassed } from './cassandra-read-model-store';
import type { ServingVersions } from './serving-versions';
import { TimelineReader, type TimelineMessage } from './timeline.reader';

/**
 * Finds a sent message (by id, or its number by position) in the timeline read model, once the
 * timeline (the version that serves reads) has projected its partition past a given offset: the
 * command service's answer to a retry of, or a read marker at, a message older than what its
 * state keeps (docs/adr/0008).
 */
export class SentMessageLookup {
  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly versions: Pick<ServingVersions, 'get'>,
    private readonly pollMs = 20,
  ) {}

  /** Null when the message is not in the timeline; rejects when the timeline is not there by the deadline. */
  async find(
    conversationId: string,
    messageId: string,
    projectedPast: { readonly partition: number; readonly offset: string },
    deadline: number,
  ): Promise<TimelineMessage | null> {
    return (await this.projectedPast(projectedPast, deadline)).byId(conversationId, messageId);
  }

  /** The number of the last message at or before `upTo` (0: none); rejects when the timeline is not past it by the deadline. */
  async seqAt(conversationId: string, upTo: { readonly partition: number; readonly offset: string }, deadline: number): Promise<bigint> {
    const page = await (await this.projectedPast(upTo, deadline)).page(conversationId, { direction: 'backward', limit: 1, before: BigInt(upTo.offset) + 1n });
    return page.messages.at(-1)?.seq ?? 0n;
  }

  /** A reader of the serving timeline once it has projected the partition past `position`. */
  private async projectedPast(position: { readonly partition: number; readonly offset: string }, deadline: number): Promise<TimelineReader> {
    const { timeline: version } = await this.versions.get();
    while (!(await checkpointsPassed(this.client, this.keyspace, ['timeline'], version, position))) {
      if (Date.now() >= deadline) throw new Error(`the timeline has not projected partition ${position.partition} past offset ${position.offset} yet`);
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    return new TimelineReader(this.client, this.keyspace, version);
  }
}
