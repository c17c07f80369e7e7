import { SentMessageLookup } from '@parley/cassandra';
import type { LogPosition, SentMessage } from '@parley/domain';
import { Injectable } from '@nestjs/common';
import { ReadModel } from './read-model';

export const OLDER_MESSAGES = Symbol('OLDER_MESSAGES');

/** Messages older than what a conversation's state keeps, looked up in the read model. */
export interface OlderMessages {
  /** The message, once the read model has projected past `projectedPast`; null when it was never sent. */
  find(conversationId: string, messageId: string, projectedPast: LogPosition, deadline: number): Promise<SentMessage | null>;
  /** The number of the last message at or before `upTo` (0: none), once the read model has projected past it. */
  seqAt(conversationId: string, upTo: LogPosition, deadline: number): Promise<number>;
}

/** OlderMessages from the timeline projection in Cassandra. */
@Injectable()
export class TimelineOlderMessages implements OlderMessages {
  private readonly lookup: SentMessageLookup;

  constructor(readModel: ReadModel) {
    this.lookup = new SentMessageLookup(readModel.client, readModel.config.keyspace, readModel.versions);
  }

  async find(conversationId: string, messageId: string, projectedPast: LogPosition, deadline: number): Promise<SentMessage | null> {
    const found = await this.lookup.find(conversationId, messageId, projectedPast, deadline);
    if (!found) return null;
    const { id, clientMessageId, senderId, body, sentAt, offset } = found;
    return { messageId: id, clientMessageId, senderId, body, sentAt, position: { partition: projectedPast.partition, offset: offset.toString() } };
  }

  async seqAt(conversationId: string, upTo: LogPosition, deadline: number): Promise<number> {
    return Number(await this.lookup.seqAt(conversationId, upTo, deadline));
  }
}
