export { KafkaConfig } from './kafka.config';
export { createKafka, ensureCompactedTopic, describeTopicConfig, COMPACTED_TOPIC_CONFIG } from './kafka-client';
export * from './event-log.port';
export { KafkaEventLog } from './kafka-event-log';
export { InMemoryEventLog } from './in-memory-event-log';
export { readToEnd } from './read-to-end';
export { encodeEvent, decodeEvent, EventDecodeError, SCHEMA_VERSION, type DecodedEvent } from './event-codec';
export { partitionForConversation, kafkaMurmur2 } from './partitioning';
export { encodeCursor, decodeCursor, cursorBelongsTo, type DecodedCursor } from './cursor';
export { toEventRecord, EVENT_RECORD_COLUMNS, type EventRecord } from './event-record';
export {
  readEvents,
  eventsPage,
  parseEventsPageQuery,
  encodeEventsPosition,
  decodeEventsPosition,
  EventsQueryError,
  MAX_EVENTS_PAGE,
  type EventsPosition,
  type ReadEventsOptions,
  type ReadProgress,
  type EventStream,
  type EventsPageQuery,
  type EventsPage,
  type EventEdge,
} from './event-reader';
