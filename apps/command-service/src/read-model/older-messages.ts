import { CassandraConfig, createCassandraClient, ProjectionCatalog, SentMessageLookup, type CassandraClient } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import type { LogPosition, SentMessage } from '@parley/domain';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';

export const OLDER_MESSAGES = Symbol('OLDER_MESSAGES');

/** Messages older than what a conversation's state keeps, looked up in the read model. */
export interface OlderMessages {
  /** The message, once the read model has projected past `projectedPast`; null when it was never sent. */
  find(conversationId: string, messageId: string, projectedPast: LogPosition, deadline: number): Promise<SentMessage | null>;
}

/**
 * OlderMessages from the timeline projection in Cassandra. Connects on first use: a command
 * service whose Cassandra is down still decides and appends everything else.
 */
@Injectable()
export class TimelineOlderMessages implements OlderMessages, OnApplicationShutdown {
  private client?: CassandraClient;
  private lookup?: SentMessageLookup;

  async find(conversationId: string, messageId: string, projectedPast: LogPosition, deadline: number): Promise<SentMessage | null> {
    if (!this.lookup) {
      const config = loadConfig(CassandraConfig);
      this.client = createCassandraClient(config);
      this.lookup = new SentMessageLookup(this.client, config.keyspace, new ProjectionCatalog(this.client, config.keyspace));
    }
    const found = await this.lookup.find(conversationId, messageId, projectedPast, deadline);
    if (!found) return null;
    const { id, clientMessageId, senderId, body, sentAt, offset } = found;
    return { messageId: id, clientMessageId, senderId, body, sentAt, position: { partition: projectedPast.partition, offset: offset.toString() } };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.shutdown();
  }
}
