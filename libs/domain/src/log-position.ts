/**
 * Where an event sits in the event log (a Kafka partition and offset).
 * The offset is a decimal string because Kafka offsets are int64 and do not fit a JS number.
 */
export interface LogPosition {
  readonly partition: number;
  readonly offset: string;
}

/** Orders by partition, then by offset compared as BigInt (a string compare would put "10" before "9"). */
export function comparePositions(a: LogPosition, b: LogPosition): -1 | 0 | 1 {
  if (a.partition !== b.partition) return a.partition < b.partition ? -1 : 1;
  const aOffset = BigInt(a.offset);
  const bOffset = BigInt(b.offset);
  if (aOffset === bOffset) return 0;
  return aOffset < bOffset ? -1 : 1;
}

export function laterPosition(a: LogPosition | null, b: LogPosition): LogPosition {
  return a !== null && comparePositions(a, b) >= 0 ? a : b;
}
