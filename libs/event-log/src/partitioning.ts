// kafkajs's own murmur2: byte-for-byte the hash of Kafka's Java default partitioner.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2: (key: string | Buffer) => number = require('kafkajs/src/producer/partitioners/default/murmur2');

/** Kafka's Utils.murmur2 of the UTF-8 bytes, as a signed 32-bit integer. */
export function kafkaMurmur2(key: string): number {
  return murmur2(Buffer.from(key, 'utf8')) | 0;
}

/**
 * The partition of a conversation: Kafka's default `toPositive(murmur2(key)) % n`, applied to
 * the conversation id (not the record key, which is the event id), so that one conversation
 * is one ordered stream and any Kafka client computes the same partition.
 */
export function partitionForConversation(conversationId: string, partitionCount: number): number {
  return (kafkaMurmur2(conversationId) & 0x7fffffff) % partitionCount;
}
