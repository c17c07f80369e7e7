export * from './read-model-store.port';
export * from './projection';
export { InMemoryReadModelStore } from './in-memory-read-model-store';
export { OFFSETS_PER_BUCKET, bucketOf, BloomFilter } from './message-sequencer';
export { TimelineProjection, TIMELINE_TABLES, timelineMessageRows, type RowsWrittenAhead, type WrittenRun } from './timeline.projection';
export { InboxProjection, INBOX_TABLES } from './inbox.projection';
export {
  PresenceProjection,
  InMemoryPresenceMembersStore,
  type PresenceMembersStore,
  type MembershipChange,
} from './presence.projection';
export { ConversationTableProjection, type ChunkPlan } from './conversation-table-projection';
