import { loadConfig } from '@parley/config';
import { uniqueName } from '@parley/testing';
import { describeEventLogContract } from './testing/event-log.contract';
import { createKafka } from './kafka-client';
import { KafkaConfig } from './kafka.config';
import { KafkaEventLog } from './kafka-event-log';

const config = loadConfig(KafkaConfig);

describeEventLogContract('Kafka', async () => {
  const kafka = createKafka(config, 'event-log-contract');
  const log = new KafkaEventLog(kafka, uniqueName('contract'), 3);
  await log.connect();
  return { log, teardown: () => log.disconnect() };
});
