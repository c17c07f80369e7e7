import { CassandraConfig, createCassandraClient, ProjectionCatalog, type CassandraClient, type ProjectionRun, type ProjectionStatus } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { SingleBar } from 'cli-progress';
import type { Writable } from 'node:stream';

/** A failure to report to the user (exit code 1), as opposed to a bug. */
export class CliError extends Error {}

export interface ProjectionsIo {
  readonly out: Writable;
  readonly err: Writable & { isTTY?: boolean };
}

/** Opens the catalog (Cassandra settings from the environment), runs `work`, closes the connection. */
export async function withCatalog<T>(work: (catalog: ProjectionCatalog) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const config = loadConfig(CassandraConfig, env);
  const client: CassandraClient = createCassandraClient(config);
  try {
    await client.connect();
    return await work(new ProjectionCatalog(client, config.keyspace));
  } finally {
    await client.shutdown();
  }
}

const percent = (p: number | null) => (p === null ? '' : `${(p * 100).toFixed(1)}%`);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

/** `projections list`: one line per projection. */
export async function listProjections(catalog: ProjectionCatalog, io: ProjectionsIo, json = false): Promise<void> {
  const statuses = await catalog.statuses();
  if (json) {
    io.out.write(JSON.stringify(statuses) + '\n');
    return;
  }
  if (statuses.length === 0) {
    io.out.write('No projections yet: start the projector (npm start) first.\n');
    return;
  }
  io.out.write(
    table([
      ['NAME', 'VERSION', 'STATE', 'EVENTS', 'LAG', 'LAG_SECONDS', 'REBUILD'],
      ...statuses.map((s) => [
        s.name,
        String(s.version),
        s.state,
        String(s.eventsProcessed),
        String(s.lagEvents),
        s.lagSeconds.toFixed(1),
        s.rebuildingVersion === null ? '' : `v${s.rebuildingVersion} ${percent(s.progress)}`,
      ]),
    ]),
  );
}

const unknownProjection = (name: string, statuses: readonly ProjectionStatus[]) =>
  new CliError(`No projection named ${JSON.stringify(name)} (known: ${statuses.map((s) => s.name).join(', ') || 'none yet'})`);

async function known(catalog: ProjectionCatalog, name: string): Promise<ProjectionStatus> {
  const statuses = await catalog.statuses();
  const status = statuses.find((s) => s.name === name);
  if (!status) throw unknownProjection(name, statuses);
  return status;
}

/** `projections status [NAME]`: everything known about one projection, or all. */
export async function showStatus(catalog: ProjectionCatalog, io: ProjectionsIo, name?: string, json = false): Promise<void> {
  const statuses = name === undefined ? await catalog.statuses() : [await known(catalog, name)];
  if (json) {
    io.out.write(JSON.stringify(name === undefined ? statuses : statuses[0]) + '\n');
    return;
  }
  for (const s of statuses) {
    const lines: Array<[string, string]> = [
      ['name', s.name],
      ['version', `${s.version} (serving reads)`],
      ['state', s.state],
      ['eventsProcessed', String(s.eventsProcessed)],
      ['lag', `${s.lagEvents} events, ${s.lagSeconds.toFixed(1)} s`],
      ...(s.rebuildingVersion === null ? [] : ([['rebuilding', `v${s.rebuildingVersion}, ${percent(s.progress)}`]] as Array<[string, string]>)),
      ['startedAt', s.startedAt?.toISOString() ?? '-'],
      ['updatedAt', s.updatedAt.toISOString()],
      ...(s.error ? ([['error', s.error]] as Array<[string, string]>) : []),
    ];
    io.out.write(lines.map(([k, v]) => `${k.padEnd(16)}${v}`).join('\n') + '\n\n');
  }
}

export interface RebuildOptions {
  /** Return once the rebuild is requested instead of following it to the switch. */
  readonly detach?: boolean;
  readonly pollMs?: number;
}

/**
 * `projections rebuild NAME`: asks the projector to build version N+1 beside N, then follows
 * it (a progress bar with rate and ETA on a terminal) until N+1 serves reads. Stopping the
 * command does not stop the rebuild; the projector carries on (and resumes it after a restart).
 */
export async function rebuildProjection(catalog: ProjectionCatalog, io: ProjectionsIo, name: string, options: RebuildOptions = {}): Promise<void> {
  const request = await catalog.requestRebuild(name);
  if (request.outcome === 'unknown') throw unknownProjection(name, await catalog.statuses());
  if (request.outcome === 'conflict') {
    throw new CliError(`A rebuild of ${name} (v${request.versions.rebuilding}) is already running; follow it with: parley projections status ${name}`);
  }
  const target = request.versions.rebuilding!;
  io.out.write(`Rebuilding ${name} v${target} beside v${request.versions.serving} (which keeps serving reads).\n`);
  if (options.detach) return;
  await followRebuild(catalog, io, name, target, options.pollMs ?? 500);
}

async function followRebuild(catalog: ProjectionCatalog, io: ProjectionsIo, name: string, target: number, pollMs: number): Promise<void> {
  const bar = io.err.isTTY
    ? new SingleBar({
        stream: io.err,
        format: `${name} v${target} {bar} {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`,
        etaBuffer: 20,
      })
    : undefined;
  const started = Date.now();
  let run: ProjectionRun | undefined;
  try {
    bar?.start(1, 0, { rate: 0 });
    for (;;) {
      const [versions, runs] = await Promise.all([catalog.versions(), catalog.runs()]);
      const current = versions.find((v) => v.name === name)!;
      run = runs.find((r) => r.name === name && r.version === target) ?? run;
      if (run?.state === 'FAILED') throw new CliError(`The rebuild of ${name} v${target} FAILED: ${run.error}`);
      if (run) {
        const rate = Math.round(run.eventsProcessed / Math.max(0.001, (Date.now() - (run.startedAt?.getTime() ?? started)) / 1000));
        bar?.setTotal(Math.max(1, run.eventsProcessed + run.lagEvents));
        bar?.update(run.eventsProcessed, { rate });
      }
      if (current.serving >= target) break;
      if (current.rebuilding !== target) throw new CliError(`The rebuild of ${name} v${target} was replaced (now: ${JSON.stringify(current)})`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    bar?.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const events = run?.eventsProcessed ?? 0;
  io.out.write(`${name} v${target} now serves reads: ${events} events in ${seconds.toFixed(1)} s (${Math.round(events / Math.max(seconds, 0.001))} events/s).\n`);
}
