import { CassandraConversationSnapshots, type PartitionCheckpoint, type StoredSnapshot } from '@parley/cassandra';
import { Injectable } from '@nestjs/common';
import { CommandServiceConfig } from '../command-service.config';
import { ReadModel } from '../read-model/read-model';

export type { PartitionCheckpoint, StoredSnapshot };

export const CONVERSATION_SNAPSHOTS = Symbol('CONVERSATION_SNAPSHOTS');

/**
 * Where a partition writer keeps the state of conversations it dropped from memory, and finds
 * it again on their next command; and its checkpoints, from which a new writer of the
 * partition reads the log instead of from its start (docs/adr/0016).
 */
export interface ConversationSnapshots {
  /** Saves a conversation's state taken after its event at `lastOffset`; an earlier state never replaces a later one. */
  save(conversationId: string, stored: StoredSnapshot): Promise<void>;
  /** The conversation's latest saved state, or null when none was saved. */
  load(conversationId: string): Promise<StoredSnapshot | null>;
  /** Saves a partition's checkpoint (its snapshots saved first); an earlier one never replaces a later one. */
  saveCheckpoint(partition: number, checkpoint: PartitionCheckpoint): Promise<void>;
  /** The partition's latest checkpoint, with all its filters; null when none was saved. */
  loadCheckpoint(partition: number): Promise<PartitionCheckpoint | null>;
}

/** ConversationSnapshots in the read side's Cassandra keyspace, a table of the command service's own. */
@Injectable()
export class CassandraSnapshots extends CassandraConversationSnapshots implements ConversationSnapshots {
  constructor(readModel: ReadModel, config: CommandServiceConfig) {
    super(readModel.client, readModel.config.keyspace, config.eventsTopic, readModel.config.replicationFactor);
  }
}
