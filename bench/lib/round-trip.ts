import { now, sleep } from './clock';
import { openLoop } from './open-loop';
import { distribution, type Distribution } from './stats';

export interface RoundTripResult {
  readonly rate: number;
  readonly sent: number;
  readonly received: number;
  readonly errors: number;
  /** From the scheduled send to the receipt (ms). */
  readonly roundTrip: Distribution;
  /** From the scheduled send to the send's acknowledgement (ms), where there is one. */
  readonly ack: Distribution;
}

/**
 * One open-loop round-trip measurement for the raw parts: `send(id)` at `rate` for
 * `durationMs`; the caller reports receipts with `received(id)` (the returned function).
 */
export function roundTrips(): {
  received: (id: string) => void;
  measure: (rate: number, durationMs: number, label: string, send: (id: string) => Promise<unknown>) => Promise<RoundTripResult>;
} {
  const receivedAt = new Map<string, number>();
  return {
    received: (id) => void (receivedAt.has(id) || receivedAt.set(id, now())),
    measure: async (rate, durationMs, label, send) => {
      const scheduled = new Map<string, number>();
      const acks: number[] = [];
      let errors = 0;
      const loop = await openLoop({
        rate,
        durationMs,
        maxInFlight: 5_000,
        operation: async (i, at) => {
          const id = `${label}-${i}`;
          scheduled.set(id, at);
          try {
            await send(id);
            acks.push(now() - at);
          } catch {
            errors++;
          }
        },
      });
      const deadline = now() + 10_000;
      const arrived = () => [...scheduled.keys()].filter((id) => receivedAt.has(id)).length;
      while (now() < deadline && arrived() < scheduled.size - errors) await sleep(50);
      const trips = [...scheduled].filter(([id]) => receivedAt.has(id)).map(([id, at]) => receivedAt.get(id)! - at);
      // Failed sends, sends never started, and sends whose message did not arrive.
      const missing = loop.skipped + scheduled.size - trips.length;
      return { rate, sent: loop.started, received: trips.length, errors: missing, roundTrip: distribution(trips), ack: distribution(acks) };
    },
  };
}
