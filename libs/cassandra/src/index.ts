export { CassandraConfig } from './cassandra.config';
export { createCassandraClient, ensureKeyspace, dropKeyspace, type CassandraClient } from './cassandra-client';
export { CassandraReadModelStore, checkpointsPassed, isTransientCassandraError, plainRow } from './cassandra-read-model-store';
export {
  ProjectionCatalog,
  projectionStatus,
  type ProjectionRun,
  type ProjectionState,
  type ProjectionStatus,
  type ProjectionVersions,
  type RebuildRequest,
} from './projection-catalog';
export { SentMessageLookup } from './sent-message.lookup';
export { TimelineReader, type TimelineMessage, type TimelinePage, type TimelinePageRequest } from './timeline.reader';
export { ConversationReader, type ConversationRecord, type MemberRecord, type InboxRecord, type InboxPage, type InboxPosition } from './conversation.reader';
export { ServingVersions, type Versions } from './serving-versions';
export { TimelineLiveWriter, type TimelineRow } from './timeline.live-writer';
export { CassandraConversationSnapshots, type PartitionCheckpoint, type StoredSnapshot } from './conversation-snapshot.store';
