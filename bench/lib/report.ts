import type { BulkLogOutput } from '../scenarios/bulk-log';
import type { DeliveryOutput } from '../scenarios/delivery';
import type { FanoutInput, FanoutRun } from '../scenarios/fanout';
import type { RawCassandraOutput } from '../scenarios/raw-cassandra';
import type { RawGraphqlWsOutput } from '../scenarios/raw-graphql-ws';
import type { RawKafkaOutput } from '../scenarios/raw-kafka';
import type { RebuildOutput } from '../scenarios/rebuild';
import type { ReplayOutput } from '../scenarios/replay';
import type { ThroughputOutput } from '../scenarios/throughput';
import type { RoundTripResult } from './round-trip';

export type Outcome<T> = { readonly ok: true; readonly elapsedMs: number; readonly result: T } | { readonly ok: false; readonly elapsedMs: number; readonly error: string };

export interface Results {
  'raw-kafka'?: Outcome<RawKafkaOutput>;
  'raw-redis'?: Outcome<{ runs: RoundTripResult[] }>;
  'raw-cassandra'?: Outcome<RawCassandraOutput>;
  'raw-graphql-ws'?: Outcome<RawGraphqlWsOutput>;
  delivery?: Outcome<DeliveryOutput>;
  throughput?: Outcome<ThroughputOutput>;
  fanout?: Outcome<{ runs: FanoutRun[] }>;
  'bulk-log'?: Outcome<BulkLogOutput>;
  rebuild?: Outcome<RebuildOutput>;
  replay?: Outcome<ReplayOutput>;
}

export interface Row {
  readonly scenario: string;
  readonly figure: string;
  readonly value: string;
  readonly target: string;
  /** 'yes' / 'NO' against the target, '' without one. */
  readonly met: string;
  /** The Parley figure over the raw part's, for each raw part that bounds it. */
  readonly ratios: string;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : 'n/a');
const rate = (v: number) => `${Math.round(v).toLocaleString('en-US')}/s`;
const ratio = (parley: number, raw: number | undefined, what: string) =>
  raw !== undefined && Number.isFinite(raw) && raw > 0 ? `x${(parley / raw).toFixed(parley / raw < 10 ? 2 : 0)} ${what}` : '';
const met = (ok: boolean) => (ok ? 'yes' : 'NO');
const ok = <T>(o: Outcome<T> | undefined): T | undefined => (o?.ok ? o.result : undefined);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const DELIVERY_TARGET = { rate: 1_000, p99: 25 };
const THROUGHPUT_TARGET = 3_000;
const REBUILD_TARGET = 30_000;
const REPLAY_TARGET = 100_000;
const SUBSCRIPTION_BYTES_TARGET = 20 * 1024;

/** The table: every Parley figure with its target and its ratio to the raw parts, then the raw parts. */
export function tableRows(results: Results, fanoutPlan: Pick<FanoutInput, 'sizes'>): Row[] {
  const rows: Row[] = [];
  const kafka = ok(results['raw-kafka']);
  const redis = ok(results['raw-redis']);
  const cassandra = ok(results['raw-cassandra']);
  const bare = ok(results['raw-graphql-ws']);
  const at = <R extends { rate: number }>(runs: readonly R[] | undefined, r: number) => runs?.find((x) => x.rate === r);

  for (const [name, outcome] of Object.entries(results)) {
    if (outcome && !outcome.ok) rows.push({ scenario: name, figure: 'FAILED', value: outcome.error.slice(0, 80), target: '', met: '', ratios: '' });
  }

  for (const run of ok(results.delivery)?.runs ?? []) {
    const isTarget = run.rate === DELIVERY_TARGET.rate;
    rows.push({
      scenario: 'delivery',
      figure: `${run.rate}/s p50 / p90 / p99 / max`,
      value: `${ms(run.latency.p50)} / ${ms(run.latency.p90)} / ${ms(run.latency.p99)} / ${ms(run.latency.max)}, ${run.errors} errors`,
      target: isTarget ? `p99 <= ${DELIVERY_TARGET.p99} ms, 0 errors` : '',
      met: isTarget ? met(run.latency.p99 <= DELIVERY_TARGET.p99 && run.errors === 0) : '',
      ratios: [
        ratio(run.latency.p99, at(bare?.runs, run.rate)?.latency.p99, 'bare graphql-ws p99'),
        ratio(run.latency.p99, at(kafka?.runs, run.rate)?.roundTrip.p99, 'kafka round trip p99'),
        ratio(run.latency.p99, at(redis?.runs, run.rate)?.roundTrip.p99, 'redis round trip p99'),
      ].filter(Boolean).join(', '),
    });
  }

  const throughput = ok(results.throughput);
  if (throughput) {
    const last = throughput.steps.at(-1);
    rows.push({
      scenario: 'throughput',
      figure: `max sustained (lag < 1 s, nothing lost, ${throughput.windowMs / 1000} s windows)`,
      value: `${rate(throughput.maxSustainedRate)}${last && !last.held ? ` (${last.rate}/s: ${last.why})` : ''}`,
      target: `>= ${rate(THROUGHPUT_TARGET)}`,
      met: met(throughput.maxSustainedRate >= THROUGHPUT_TARGET),
      ratios: ratio(throughput.maxSustainedRate, cassandra?.rate, 'bare cassandra writes/s'),
    });
  }

  const bareBytes = bare?.bytesPerSubscription;
  for (const run of ok(results.fanout)?.runs ?? []) {
    rows.push({
      scenario: 'fan-out',
      figure: `${run.subscribers} subscribers: all have it, p50 / p99`,
      value: `${ms(run.allReceived.p50)} / ${ms(run.allReceived.p99)}, ${run.lost} lost${run.failedSubscriptions ? `, ${run.failedSubscriptions} subscriptions failed` : ''}`,
      target: '',
      met: '',
      ratios: '',
    });
    rows.push({
      scenario: 'fan-out',
      figure: `${run.subscribers} subscribers: API memory per subscription`,
      value: kib(run.bytesPerSubscription),
      target: `<= ${kib(SUBSCRIPTION_BYTES_TARGET)}`,
      met: met(run.bytesPerSubscription <= SUBSCRIPTION_BYTES_TARGET),
      ratios: ratio(run.bytesPerSubscription, bareBytes, 'bare graphql-ws'),
    });
  }
  if (results.fanout?.ok && results.fanout.result.runs.length < fanoutPlan.sizes.length) {
    rows.push({ scenario: 'fan-out', figure: 'sizes run', value: `${results.fanout.result.runs.length} of ${fanoutPlan.sizes.length}`, target: '', met: '', ratios: '' });
  }

  const bulk = ok(results['bulk-log']);
  const rebuild = ok(results.rebuild);
  if (rebuild) {
    rows.push({
      scenario: 'rebuild',
      figure: `timeline over ${rebuild.events.toLocaleString('en-US')} events`,
      value: `${rate(rebuild.rebuildRate)} (${(rebuild.rebuildMs / 1000).toFixed(1)} s)`,
      target: `>= ${rate(REBUILD_TARGET)}`,
      met: met(rebuild.rebuildRate >= REBUILD_TARGET),
      ratios: [ratio(rebuild.rebuildRate, cassandra?.rate, 'bare cassandra writes/s'), ratio(rebuild.rebuildRate, kafka?.consume?.rate, 'bare kafka read')].filter(Boolean).join(', '),
    });
    rows.push({
      scenario: 'rebuild',
      figure: 'first build, all 3 projections at once',
      value: `${rate(rebuild.firstBuildRate)} (${(rebuild.firstBuildMs / 1000).toFixed(1)} s)`,
      target: '',
      met: '',
      ratios: '',
    });
  }
  const replay = ok(results.replay);
  if (replay) {
    rows.push({
      scenario: 'replay',
      figure: `NDJSON over ${replay.lines.toLocaleString('en-US')} events`,
      value: `${rate(replay.rate)} (${(replay.elapsedMs / 1000).toFixed(1)} s)`,
      target: `>= ${rate(REPLAY_TARGET)}`,
      met: met(replay.rate >= REPLAY_TARGET),
      ratios: ratio(replay.rate, kafka?.consume?.rate, 'bare kafka read'),
    });
  }
  if (bulk) rows.push({ scenario: 'bulk log', figure: `${bulk.events.toLocaleString('en-US')} events appended`, value: rate(bulk.appendRate), target: '', met: '', ratios: '' });

  for (const run of kafka?.runs ?? []) rows.push(rawRow('raw kafka', `produce+consume @ ${run.rate}/s p50 / p99`, run));
  if (kafka?.consume) rows.push({ scenario: 'raw kafka', figure: 'plain read of the bulk log', value: rate(kafka.consume.rate), target: '', met: '', ratios: '' });
  for (const run of redis?.runs ?? []) rows.push(rawRow('raw redis', `pub/sub @ ${run.rate}/s p50 / p99`, run));
  if (cassandra) rows.push({ scenario: 'raw cassandra', figure: `timeline_messages inserts, ${cassandra.concurrency} in flight`, value: rate(cassandra.rate), target: '', met: '', ratios: '' });
  for (const run of bare?.runs ?? []) {
    rows.push({ scenario: 'raw graphql-ws', figure: `echo @ ${run.rate}/s p50 / p99`, value: `${ms(run.latency.p50)} / ${ms(run.latency.p99)}, ${run.errors} errors`, target: '', met: '', ratios: '' });
  }
  if (bareBytes !== undefined) rows.push({ scenario: 'raw graphql-ws', figure: 'memory per subscription', value: kib(bareBytes), target: '', met: '', ratios: '' });
  return rows;
}

function rawRow(scenario: string, figure: string, run: RoundTripResult): Row {
  return { scenario, figure, value: `${ms(run.roundTrip.p50)} / ${ms(run.roundTrip.p99)}, ${run.errors} errors`, target: '', met: '', ratios: '' };
}

export function formatTable(rows: readonly Row[]): string {
  const header: Row = { scenario: 'scenario', figure: 'figure', value: 'value', target: 'target', met: 'met', ratios: 'ratio to raw part' };
  const columns = Object.keys(header) as Array<keyof Row>;
  const widths = columns.map((c) => Math.max(...[header, ...rows].map((r) => r[c].length)));
  const line = (r: Row) => columns.map((c, i) => r[c].padEnd(widths[i])).join(' | ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The delivery path per hop at each rate (median and p99, ms). */
export function formatStages(delivery: DeliveryOutput | undefined, cores: number): string {
  if (!delivery) return '';
  const lines = ['Delivery path per hop (p50 / p99, ms):'];
  for (const run of delivery.runs) {
    lines.push(`  at ${run.rate}/s:`);
    for (const [stage, d] of Object.entries(run.stages ?? {})) lines.push(`    ${stage.padEnd(76)} ${ms(d.p50).padStart(9)} / ${ms(d.p99).padStart(9)}`);
    const { machine, ...processes } = run.cpuPercent;
    const cpu = Object.entries(processes).sort(([, a], [, b]) => b - a);
    lines.push(`    CPU, % of one core (machine ${machine}% of ${cores * 100}%): ${cpu.map(([name, p]) => `${name} ${p}`).join(', ')}`);
  }
  return lines.join('\n');
}
