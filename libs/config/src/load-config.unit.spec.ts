import { KafkaConfig } from '@parley/event-log';
import { CassandraConfig } from '@parley/cassandra';
import { RedisConfig } from '@parley/redis';
import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  it('fills every documented default when the environment is empty', () => {
    expect(loadConfig(KafkaConfig, {})).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      eventsTopic: 'parley.events.v1',
      eventsTopicPartitions: 12,
    });
    expect(loadConfig(CassandraConfig, {})).toMatchObject({ contactPoints: ['127.0.0.1:9042'], keyspace: 'parley' });
    expect(loadConfig(RedisConfig, {})).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('reads lists from comma-separated values', () => {
    expect(loadConfig(KafkaConfig, { KAFKA_BROKERS: 'a:1, b:2' }).brokers).toEqual(['a:1', 'b:2']);
  });

  it('rejects a bad value with a message naming the variable', () => {
    expect(() => loadConfig(KafkaConfig, { EVENTS_TOPIC_PARTITIONS: 'many' })).toThrow(ConfigError);
    expect(() => loadConfig(KafkaConfig, { EVENTS_TOPIC_PARTITIONS: 'many' })).toThrow(/EVENTS_TOPIC_PARTITIONS="many"/);
    expect(() => loadConfig(KafkaConfig, { KAFKA_BROKERS: 'no-port' })).toThrow(/KAFKA_BROKERS/);
    expect(() => loadConfig(RedisConfig, { REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
  });
});
