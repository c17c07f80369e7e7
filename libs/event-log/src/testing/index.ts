export { appendRawRecord } from './raw-records';
export { describeEventLogContract, messageSent, type EventLogFixture } from './event-log.contract';
export { appendBulkEvents, generateBulkEvents, DEFAULT_BULK_MIX, type BulkAppendOptions, type BulkAppendSummary, type BulkCommandMix, type BulkEventsOptions, type BulkStep } from './bulk-events';
