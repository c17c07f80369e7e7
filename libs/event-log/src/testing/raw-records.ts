import type { Kafka } from 'kafkajs';

/** Writes bytes that bypass the codec, e.g. a record no reader can decode (tests only). */
export async function appendRawRecord(kafka: Kafka, topic: string, partition: number, key: string, value: Buffer): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key, value, partition }] });
  } finally {
    await producer.disconnect();
  }
}
