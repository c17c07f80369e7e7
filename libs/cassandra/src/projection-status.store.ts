import type { Client } from 'cassandra-driver';

export type ProjectionState = 'LIVE' | 'REBUILDING' | 'FAILED' | 'PAUSED';

export interface ProjectionStatusRecord {
  readonly name: string;
  readonly version: number;
  readonly state: ProjectionState;
  readonly eventsProcessed: number;
  readonly error: string | null;
  readonly startedAt: Date | null;
  readonly updatedAt: Date;
}

/** Durable status of each projection (who serves which version, FAILED and why), read by admins and the API. */
export class ProjectionStatusStore {
  constructor(
    private readonly client: Client,
    private readonly keyspace: string,
  ) {}

  async createTable(): Promise<void> {
    await this.client.execute(
      `CREATE TABLE IF NOT EXISTS ${this.keyspace}.projection_status (name text PRIMARY KEY, version int, state text, ` +
        'events_processed bigint, error text, started_at timestamp, updated_at timestamp)',
    );
  }

  async save(record: ProjectionStatusRecord): Promise<void> {
    await this.client.execute(
      `INSERT INTO ${this.keyspace}.projection_status (name, version, state, events_processed, error, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [record.name, record.version, record.state, BigInt(record.eventsProcessed), record.error, record.startedAt, record.updatedAt],
    );
  }

  async all(): Promise<ProjectionStatusRecord[]> {
    const result = await this.client.execute(`SELECT * FROM ${this.keyspace}.projection_status`);
    return result.rows.map((r) => ({
      name: r.get('name'),
      version: r.get('version'),
      state: r.get('state'),
      eventsProcessed: Number(r.get('events_processed') ?? 0),
      error: r.get('error') ?? null,
      startedAt: r.get('started_at') ?? null,
      updatedAt: r.get('updated_at'),
    }));
  }

  async get(name: string): Promise<ProjectionStatusRecord | undefined> {
    return (await this.all()).find((r) => r.name === name);
  }
}
