import { KafkaEventLog, KafkaConfig, createKafka, type EventLog } from '@parley/event-log';

/** Everything the CLI reads from the environment: where the event log is (KAFKA_*, EVENTS_TOPIC*). */
export class CliConfig extends KafkaConfig {}

export interface OpenedEventLog {
  readonly log: EventLog;
  close(): Promise<void>;
}

/** Connects to the events topic; the partition count must match the topic's (EVENTS_TOPIC_PARTITIONS). */
export async function openEventLog(config: CliConfig): Promise<OpenedEventLog> {
  const log = new KafkaEventLog(createKafka(config, 'cli'), config.eventsTopic, config.eventsTopicPartitions);
  try {
    await log.connect({ readOnly: true });
  } catch (err) {
    await log.disconnect().catch(() => undefined);
    throw err;
  }
  return { log, close: () => log.disconnect() };
}
