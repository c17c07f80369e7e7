import { describeEventLogContract } from './testing/event-log.contract';
import { InMemoryEventLog } from './in-memory-event-log';

describeEventLogContract('in memory', async () => ({ log: new InMemoryEventLog(3), teardown: async () => undefined }));
