import type { Client } from 'cassandra-driver';
import { checkpointsPassed } from './cassandra-read-model-store';
import type { ServingVersions } from './serving-versions';
import { TimelineReader, type TimelineMessage } from './timeline.reader';

/**
 * Finds a sent message by id in the timeline read model, once the timeline (the version that
 * serves reads) has projected its partition past a given offset: the command service's answer
 * to a retry of a message older than what its state keeps (docs/adr/0008).
 */
export class SentMessageLookup {
  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
    private readonly versions: ServingVersions,
    private readonly pollMs = 20,
  ) {}

  /** Null when the message is not in the timeline; rejects when the timeline is not there by the deadline. */
  async find(
    conversationId: string,
    messageId: string,
    projectedPast: { readonly partition: number; readonly offset: string },
    deadline: number,
  ): Promise<TimelineMessage | null> {
    const { timeline: version } = await this.versions.get();
    while (!(await checkpointsPassed(this.client, this.keyspace, ['timeline'], version, projectedPast))) {
      if (Date.now() >= deadline) throw new Error(`the timeline has not projected partition ${projectedPast.partition} past offset ${projectedPast.offset} yet`);
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    return new TimelineReader(this.client, this.keyspace, version).byId(conversationId, messageId);
  }
}
