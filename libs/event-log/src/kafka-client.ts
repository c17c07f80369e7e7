import { Kafka, logLevel, type Admin, type ITopicConfig, type PartitionOffset, type SeekEntry } from 'kafkajs';
import type { KafkaConfig } from './kafka.config';

export function createKafka(config: Pick<KafkaConfig, 'brokers' | 'clientId'>, appName = 'app'): Kafka {
  return new Kafka({
    clientId: `${config.clientId}-${appName}`,
    brokers: config.brokers,
    logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

/**
 * Settings of every event topic. The log is the source of truth, so nothing may expire:
 * no time or size retention; compaction (each event has its own key, its event id) only
 * removes exact retries and tombstoned records. See docs/adr/0003-event-log-topics.md.
 */
export const COMPACTED_TOPIC_CONFIG: Readonly<Record<string, string>> = {
  'cleanup.policy': 'compact',
  'retention.ms': '-1',
  'retention.bytes': '-1',
  // Tombstones stay readable for a day so that slow consumers see the erasure.
  'delete.retention.ms': '86400000',
  'message.timestamp.type': 'CreateTime',
};

/** Creates the topic with the compacted settings unless it exists; safe to call from every app. */
export async function ensureCompactedTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  const spec: ITopicConfig = {
    topic,
    numPartitions,
    replicationFactor: -1, // the broker's default.replication.factor
    configEntries: Object.entries(COMPACTED_TOPIC_CONFIG).map(([name, value]) => ({ name, value })),
  };
  // Two apps may race to create it; losing that race is fine.
  await admin.createTopics({ topics: [spec], waitForLeaders: true }).catch((err: { type?: string }) => {
    if (err?.type !== 'TOPIC_ALREADY_EXISTS') throw err;
  });
}

/** The topic's effective configuration, as the broker reports it (describeConfigs). */
export async function describeTopicConfig(admin: Admin, topic: string): Promise<Record<string, string>> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2 /* ConfigResourceTypes.TOPIC */, name: topic }],
  });
  return Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
}

/** How long a retriable refusal (a partition whose leader is not ready yet) of an offsets request is tried again. */
const OFFSETS_RETRY_MS = 10_000;

/**
 * Asks for offsets again while Kafka answers with a retriable error: right after a topic is
 * created, a broker may still say it is not the leader of a partition the metadata gives it
 * (seen in 1 to 6 of 20 fresh topics here), and kafkajs's admin does not retry that itself.
 */
async function retryingOffsets<T>(request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + OFFSETS_RETRY_MS;
  for (let wait = 50; ; wait = Math.min(1_000, wait * 2)) {
    try {
      return await request();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() + wait > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Each partition's low and high offsets (admin `fetchTopicOffsets`, retried while retriable). */
export function topicOffsets(admin: Admin, topic: string): Promise<Array<SeekEntry & { high: string; low: string }>> {
  return retryingOffsets(() => admin.fetchTopicOffsets(topic));
}

/** Each partition's first offset at or after a time (admin `fetchTopicOffsetsByTimestamp`, retried while retriable). */
export function topicOffsetsAt(admin: Admin, topic: string, timestampMs: number): Promise<PartitionOffset[]> {
  return retryingOffsets(() => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs));
}
