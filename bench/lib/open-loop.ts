import { now } from './clock';
import { distribution, type Distribution } from './stats';

export interface OpenLoopOptions {
  /** Operations per second, on a fixed schedule whatever the replies do. */
  readonly rate: number;
  readonly durationMs: number;
  /** Operations in flight at most: beyond it the generator skips (and counts) rather than grow without bound. */
  readonly maxInFlight: number;
  /** Starts operation `index`, due at `scheduledAt` (ms, see clock.now). Must not reject. */
  readonly operation: (index: number, scheduledAt: number) => Promise<void>;
}

export interface OpenLoopReport {
  readonly offered: number;
  readonly started: number;
  /** Due while maxInFlight were outstanding: never started. */
  readonly skipped: number;
  /** How late the generator started operations (ms): its own overload shows here. */
  readonly lateness: Distribution;
  /** From the first operation due to the last one started. */
  readonly windowMs: number;
}

/**
 * Open-loop load: operation i is due at start + i/rate and is started then, not after the
 * previous reply, so that queueing in the system shows up as latency (no coordinated omission).
 */
export async function openLoop({ rate, durationMs, maxInFlight, operation }: OpenLoopOptions): Promise<OpenLoopReport> {
  const offered = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const start = now() + 5;
  const lateness: number[] = [];
  const running = new Set<Promise<void>>();
  let next = 0;
  let skipped = 0;
  let windowEnd = start;
  await new Promise<void>((done) => {
    const tick = () => {
      const t = now();
      for (let due = start + next * interval; next < offered && due <= t; due = start + ++next * interval) {
        lateness.push(t - due);
        if (running.size >= maxInFlight) {
          skipped++;
          continue;
        }
        const op = operation(next, due).finally(() => running.delete(op));
        running.add(op);
      }
      if (next >= offered) {
        windowEnd = now();
        return done();
      }
      setTimeout(tick, Math.max(0, Math.min(1, start + next * interval - now())));
    };
    tick();
  });
  await Promise.all(running);
  return { offered, started: offered - skipped, skipped, lateness: distribution(lateness), windowMs: windowEnd - start };
}
