export { KafkaConfig } from './kafka.config';
export { createKafka, ensureCompactedTopic, describeTopicConfig, COMPACTED_TOPIC_CONFIG } from './kafka-client';
