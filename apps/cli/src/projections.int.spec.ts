import { CassandraConfig, createCassandraClient, ensureKeyspace, ProjectionCatalog, type CassandraClient } from '@parley/cassandra';
import { loadConfig } from '@parley/config';
import { uniqueName, waitFor } from '@parley/testing';
import { PassThrough } from 'node:stream';
import { CliError, listProjections, rebuildProjection, showStatus, type ProjectionsIo } from './projections';

function capture(): ProjectionsIo & { text(): string } {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  err.resume();
  return { out, err, text: () => text };
}

describe('parley projections (on a real Cassandra catalog)', () => {
  let client: CassandraClient;
  let catalog: ProjectionCatalog;

  beforeAll(async () => {
    const config = loadConfig(CassandraConfig, { ...process.env, CASSANDRA_KEYSPACE: uniqueName('cli') });
    client = createCassandraClient(config);
    await client.connect();
    await ensureKeyspace(client, config.keyspace, 1);
    catalog = new ProjectionCatalog(client, config.keyspace);
    await catalog.createTables();
    for (const name of ['timeline', 'inbox']) await catalog.register(name);
    const now = new Date();
    await catalog.saveRun({ name: 'timeline', version: 1, state: 'LIVE', eventsProcessed: 1234, lagEvents: 5, lagSeconds: 0.25, progress: 1, error: null, startedAt: now, updatedAt: now });
  });

  afterAll(() => client.shutdown());

  it('lists every projection with version, state, events and lag', async () => {
    const io = capture();
    await listProjections(catalog, io);
    const lines = io.text().trim().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['NAME', 'VERSION', 'STATE', 'EVENTS', 'LAG', 'LAG_SECONDS', 'REBUILD']);
    expect(lines.find((l) => l.startsWith('timeline'))!.split(/\s+/)).toEqual(['timeline', '1', 'LIVE', '1234', '5', '0.3']);
    expect(lines.some((l) => l.startsWith('inbox'))).toBe(true);
  });

  it('shows one projection, and refuses an unknown name naming the known ones', async () => {
    const io = capture();
    await showStatus(catalog, io, 'timeline', true);
    expect(JSON.parse(io.text())).toMatchObject({ name: 'timeline', version: 1, state: 'LIVE', eventsProcessed: 1234, lagEvents: 5 });
    await expect(showStatus(catalog, capture(), 'nope')).rejects.toThrow(new CliError('No projection named "nope" (known: inbox, timeline)'));
  });

  it('requests a rebuild of N+1 and refuses a second while it runs', async () => {
    const io = capture();
    await rebuildProjection(catalog, io, 'inbox', { detach: true });
    expect(io.text()).toContain('Rebuilding inbox v2 beside v1');
    expect(await catalog.status('inbox')).toMatchObject({ version: 1, state: 'REBUILDING', rebuildingVersion: 2 });
    await expect(rebuildProjection(catalog, capture(), 'inbox', { detach: true })).rejects.toThrow(/already running/);
  });

  it('follows a rebuild until the new version serves, and reports a FAILED one', async () => {
    const io = capture();
    const following = rebuildProjection(catalog, io, 'timeline', { pollMs: 20 });
    const requested = (version: number) => waitFor(`v${version} requested`, async () => (await catalog.status('timeline'))?.rebuildingVersion === version);
    await requested(2);
    // Play the projector: progress, then the switch.
    const started = new Date();
    await catalog.saveRun({ name: 'timeline', version: 2, state: 'REBUILDING', eventsProcessed: 600, lagEvents: 400, lagSeconds: 1, progress: 0.6, error: null, startedAt: started, updatedAt: new Date() });
    await catalog.saveRun({ name: 'timeline', version: 2, state: 'REBUILDING', eventsProcessed: 1000, lagEvents: 0, lagSeconds: 0, progress: 1, error: null, startedAt: started, updatedAt: new Date() });
    await catalog.switchTo('timeline', 2);
    await following;
    expect(io.text()).toMatch(/timeline v2 now serves reads: 1000 events in/);

    const failing = rebuildProjection(catalog, capture(), 'timeline', { pollMs: 20 });
    await requested(3);
    await catalog.saveRun({ name: 'timeline', version: 3, state: 'FAILED', eventsProcessed: 10, lagEvents: 990, lagSeconds: 5, progress: 0.01, error: 'cannot apply MessageSent x', startedAt: started, updatedAt: new Date() });
    await expect(failing).rejects.toThrow('The rebuild of timeline v3 FAILED: cannot apply MessageSent x');
  });
});
