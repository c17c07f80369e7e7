import { randomBytes } from 'node:crypto';

/**
 * A name no other test (or earlier run) uses: tests never share topics, tables, keys or groups.
 * Lower-case letters, digits and underscores only, so it is valid as a Kafka topic,
 * a Cassandra identifier and a Redis key alike.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase();
}
