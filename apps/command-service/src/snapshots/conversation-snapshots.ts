import { CassandraConversationSnapshots, type StoredSnapshot } from '@parley/cassandra';
import { Injectable } from '@nestjs/common';
import { CommandServiceConfig } from '../command-service.config';
import { ReadModel } from '../read-model/read-model';

export type { StoredSnapshot };

export const CONVERSATION_SNAPSHOTS = Symbol('CONVERSATION_SNAPSHOTS');

/**
 * Where a partition writer keeps the state of conversations it dropped from memory, and finds
 * it again on their next command (docs/adr/0016).
 */
export interface ConversationSnapshots {
  /** Saves a conversation's state taken after its event at `lastOffset`; an earlier state never replaces a later one. */
  save(conversationId: string, stored: StoredSnapshot): Promise<void>;
  /** The conversation's latest saved state, or null when none was saved. */
  load(conversationId: string): Promise<StoredSnapshot | null>;
}

/** ConversationSnapshots in the read side's Cassandra keyspace, a table of the command service's own. */
@Injectable()
export class CassandraSnapshots extends CassandraConversationSnapshots implements ConversationSnapshots {
  constructor(readModel: ReadModel, config: CommandServiceConfig) {
    super(readModel.client, readModel.config.keyspace, config.eventsTopic, readModel.config.replicationFactor);
  }
}
