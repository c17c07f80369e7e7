import type { ConsumeOptions, EventLog, RecordedEvent } from './event-log.port';

/**
 * Every event from `from` up to the end offsets captured when the read began: a bounded read
 * that later appends cannot prolong. For large ranges use `consume` and stream instead.
 */
export async function readToEnd(log: EventLog, from: ConsumeOptions['from'] = 'earliest'): Promise<RecordedEvent[]> {
  const until = await log.endOffsets();
  const events: RecordedEvent[] = [];
  const consumer = await log.consume({ from, until }, async (batch) => {
    events.push(...batch.events);
  });
  await consumer.done;
  return events;
}
