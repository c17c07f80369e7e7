// The log for scenarios 4 and 5: N valid events appended straight to a topic of its own by the
// bulk writer (no command service), as a real history would look.
import { loadConfig } from '@parley/config';
import { createKafka, KafkaConfig, KafkaEventLog } from '@parley/event-log';
import { appendBulkEvents } from '@parley/event-log/testing';
import { now } from '../lib/clock';
import { progress, runScenario } from '../lib/scenario';
import { perSecond } from '../lib/stats';

export interface BulkLogInput {
  readonly topic: string;
  readonly partitions: number;
  readonly events: number;
}

export interface BulkLogOutput {
  readonly events: number;
  readonly appendMs: number;
  readonly appendRate: number;
  readonly byType: Record<string, number>;
  readonly conversations: number;
}

runScenario<BulkLogInput, BulkLogOutput>(async ({ topic, partitions, events }) => {
  const log = new KafkaEventLog(createKafka(loadConfig(KafkaConfig), 'bench-bulk'), topic, partitions);
  await log.connect();
  try {
    const started = now();
    let reported = 0;
    const summary = await appendBulkEvents(log, {
      events,
      seed: 1,
      onProgress: (appended) => {
        if (appended - reported >= 200_000) progress(`bulk log: ${(reported = appended).toLocaleString('en-US')} events`);
      },
    });
    const appendMs = Math.round(now() - started);
    return { events: summary.events, appendMs, appendRate: perSecond(summary.events, appendMs), byType: summary.byType, conversations: summary.conversations };
  } finally {
    await log.disconnect();
  }
});
