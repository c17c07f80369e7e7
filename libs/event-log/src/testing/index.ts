export { appendRawRecord } from './raw-records';
export { describeEventLogContract, messageSent, type EventLogFixture } from './event-log.contract';
