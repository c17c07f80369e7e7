/** Distribution of a sample, in the sample's unit (milliseconds for latencies). */
export interface Distribution {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

const round = (value: number) => Math.round(value * 100) / 100;

/** Nearest-rank percentile of sorted values (q in 0..1). */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((a, b) => a + b, 0);
  return {
    count: list.length,
    p50: round(percentile(list, 0.5)),
    p90: round(percentile(list, 0.9)),
    p99: round(percentile(list, 0.99)),
    max: round(list.length ? list[list.length - 1] : NaN),
    mean: round(list.length ? sum / list.length : NaN),
  };
}

/** Events (or messages) per second. */
export const perSecond = (count: number, elapsedMs: number): number => Math.round(count / (elapsedMs / 1000));
