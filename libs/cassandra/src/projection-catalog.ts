import type { Client } from 'cassandra-driver';
import { types } from 'cassandra-driver';

export type ProjectionState = 'LIVE' | 'REBUILDING' | 'FAILED' | 'PAUSED';

/** Which version of a projection serves reads, and which one is being built beside it. */
export interface ProjectionVersions {
  readonly name: string;
  readonly serving: number;
  readonly rebuilding: number | null;
  readonly rebuildRequestedAt: Date | null;
}

/** What the projector last reported about one version of a projection (saved about once a second). */
export interface ProjectionRun {
  readonly name: string;
  readonly version: number;
  /** LIVE: following the log; REBUILDING: being built from the start of the log; FAILED: stopped, see error. */
  readonly state: ProjectionState;
  readonly eventsProcessed: number;
  readonly lagEvents: number;
  readonly lagSeconds: number;
  /** Share of the log applied, 0..1 (for a version being built). */
  readonly progress: number;
  readonly error: string | null;
  readonly startedAt: Date | null;
  readonly updatedAt: Date;
}

/** The public status of a projection: its serving version, and the rebuild if one runs (the contract's ProjectionStatus). */
export interface ProjectionStatus {
  readonly name: string;
  readonly version: number;
  readonly state: ProjectionState;
  readonly eventsProcessed: number;
  readonly lagEvents: number;
  readonly lagSeconds: number;
  readonly progress: number | null;
  readonly rebuildingVersion: number | null;
  readonly startedAt: Date | null;
  readonly updatedAt: Date;
  readonly error: string | null;
}

export type RebuildRequest =
  | { readonly outcome: 'started'; readonly versions: ProjectionVersions }
  | { readonly outcome: 'conflict'; readonly versions: ProjectionVersions }
  | { readonly outcome: 'unknown' };

const SERIAL = { prepare: true, serialConsistency: types.consistencies.localSerial };

/**
 * Durable record of who serves which version (read by every API instance, so they switch
 * together) and of the projector's progress per version. `projection_versions` is written
 * only with lightweight transactions (register, request a rebuild, switch): one rebuild per
 * projection at a time, decided by Cassandra, not by a process. `projection_runs` holds the
 * frequently saved progress, kept apart so that plain writes never mix with the LWT row.
 */
export class ProjectionCatalog {
  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
  ) {}

  async createTables(): Promise<void> {
    await this.client.execute(
      `CREATE TABLE IF NOT EXISTS ${this.keyspace}.projection_versions (name text PRIMARY KEY, serving int, rebuilding int, rebuild_requested_at timestamp)`,
    );
    await this.client.execute(
      `CREATE TABLE IF NOT EXISTS ${this.keyspace}.projection_runs (name text, version int, state text, events_processed bigint, ` +
        'lag_events bigint, lag_seconds double, progress double, error text, started_at timestamp, updated_at timestamp, PRIMARY KEY (name, version))',
    );
  }

  /** Makes a projection known (serving version 1) unless it is already. */
  async register(name: string): Promise<void> {
    await this.client.execute(`INSERT INTO ${this.keyspace}.projection_versions (name, serving) VALUES (?, 1) IF NOT EXISTS`, [name], SERIAL);
  }

  async versions(): Promise<ProjectionVersions[]> {
    const result = await this.client.execute(`SELECT * FROM ${this.keyspace}.projection_versions`, [], { prepare: true });
    return result.rows.map((r) => ({
      name: r.get('name'),
      serving: r.get('serving'),
      rebuilding: r.get('rebuilding') ?? null,
      rebuildRequestedAt: r.get('rebuild_requested_at') ?? null,
    }));
  }

  /** Asks for version serving+1 to be built; refused (conflict) while a rebuild of that projection is under way. */
  async requestRebuild(name: string, now = new Date()): Promise<RebuildRequest> {
    const current = (await this.versions()).find((v) => v.name === name);
    if (!current) return { outcome: 'unknown' };
    const result = await this.client.execute(
      `UPDATE ${this.keyspace}.projection_versions SET rebuilding = ?, rebuild_requested_at = ? WHERE name = ? IF rebuilding = null AND serving = ?`,
      [current.serving + 1, now, name, current.serving],
      SERIAL,
    );
    const applied = result.first().get('[applied]') as boolean;
    const after = (await this.versions()).find((v) => v.name === name)!;
    return { outcome: applied ? 'started' : 'conflict', versions: after };
  }

  /** Serves `version` from now on; false when the rebuild was not that version (nothing changes). */
  async switchTo(name: string, version: number): Promise<boolean> {
    const result = await this.client.execute(
      `UPDATE ${this.keyspace}.projection_versions SET serving = ?, rebuilding = null, rebuild_requested_at = null WHERE name = ? IF rebuilding = ?`,
      [version, name, version],
      SERIAL,
    );
    return result.first().get('[applied]') as boolean;
  }

  async saveRun(run: ProjectionRun): Promise<void> {
    await this.client.execute(
      `INSERT INTO ${this.keyspace}.projection_runs (name, version, state, events_processed, lag_events, lag_seconds, progress, error, started_at, updated_at) ` +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [run.name, run.version, run.state, BigInt(run.eventsProcessed), BigInt(run.lagEvents), run.lagSeconds, run.progress, run.error, run.startedAt, run.updatedAt],
      { prepare: true },
    );
  }

  async deleteRun(name: string, version: number): Promise<void> {
    await this.client.execute(`DELETE FROM ${this.keyspace}.projection_runs WHERE name = ? AND version = ?`, [name, version], { prepare: true });
  }

  async runs(): Promise<ProjectionRun[]> {
    const result = await this.client.execute(`SELECT * FROM ${this.keyspace}.projection_runs`, [], { prepare: true });
    return result.rows.map((r) => ({
      name: r.get('name'),
      version: r.get('version'),
      state: r.get('state'),
      eventsProcessed: Number(r.get('events_processed') ?? 0),
      lagEvents: Number(r.get('lag_events') ?? 0),
      lagSeconds: r.get('lag_seconds') ?? 0,
      progress: r.get('progress') ?? 0,
      error: r.get('error') ?? null,
      startedAt: r.get('started_at') ?? null,
      updatedAt: r.get('updated_at'),
    }));
  }

  /** Every known projection's public status, by name. */
  async statuses(): Promise<ProjectionStatus[]> {
    const [versions, runs] = await Promise.all([this.versions(), this.runs()]);
    const run = (name: string, version: number | null) => runs.find((r) => r.name === name && r.version === version);
    return versions
      .map((v) => projectionStatus(v, run(v.name, v.serving), run(v.name, v.rebuilding)))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async status(name: string): Promise<ProjectionStatus | undefined> {
    return (await this.statuses()).find((s) => s.name === name);
  }
}

/** Serving version's figures; REBUILDING (with the new version's progress) while one is built; FAILED wins. */
export function projectionStatus(versions: ProjectionVersions, serving: ProjectionRun | undefined, rebuild: ProjectionRun | undefined): ProjectionStatus {
  const failed = [serving, rebuild].find((r) => r?.state === 'FAILED');
  const rebuilding = versions.rebuilding !== null;
  return {
    name: versions.name,
    version: versions.serving,
    state: failed ? 'FAILED' : rebuilding ? 'REBUILDING' : (serving?.state ?? 'LIVE'),
    eventsProcessed: serving?.eventsProcessed ?? 0,
    lagEvents: serving?.lagEvents ?? 0,
    lagSeconds: serving?.lagSeconds ?? 0,
    progress: rebuilding ? (rebuild?.progress ?? 0) : null,
    rebuildingVersion: versions.rebuilding,
    startedAt: rebuilding ? (rebuild?.startedAt ?? versions.rebuildRequestedAt) : (serving?.startedAt ?? null),
    updatedAt: new Date(Math.max(serving?.updatedAt.getTime() ?? 0, rebuild?.updatedAt.getTime() ?? 0, versions.rebuildRequestedAt?.getTime() ?? 0)),
    error: failed ? (failed.version === versions.rebuilding ? `rebuild of v${failed.version}: ${failed.error}` : failed.error) : null,
  };
}
