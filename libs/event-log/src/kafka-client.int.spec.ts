import { loadConfig } from '@parley/config';
import { uniqueName, waitFor } from '@parley/testing';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { createKafka, describeTopicConfig, ensureCompactedTopic } from './kafka-client';
import { KafkaConfig } from './kafka.config';

describe('Kafka on loopback (real broker)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    kafka = createKafka(loadConfig(KafkaConfig), 'int-test');
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.disconnect()));
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  });

  it('creates a compacted topic with no time or size retention, idempotently', async () => {
    const topic = uniqueName('int_compacted');
    await ensureCompactedTopic(admin, topic, 3);
    await ensureCompactedTopic(admin, topic, 3);

    const config = await describeTopicConfig(admin, topic);
    expect(config).toMatchObject({ 'cleanup.policy': 'compact', 'retention.ms': '-1', 'retention.bytes': '-1' });
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    expect(metadata.partitions).toHaveLength(3);
  });

  it('produces keyed records to the compacted topic and consumes them back in order', async () => {
    const topic = uniqueName('int_roundtrip');
    await ensureCompactedTopic(admin, topic, 1);
    const sent = Array.from({ length: 20 }, (_, i) => ({ key: `event-${i}`, value: `payload-${i}` }));
    await producer.send({ topic, acks: -1, messages: sent });

    const received: Array<{ key: string; value: string }> = [];
    const consumer = kafka.consumer({ groupId: uniqueName('int_group') });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.push({ key: String(message.key), value: String(message.value) });
      },
    });

    await waitFor('all 20 records to be consumed', () => received.length >= sent.length, { timeoutMs: 30_000 });
    expect(received).toEqual(sent);
  });
});
