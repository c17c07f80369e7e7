import { projectionStatus, type ProjectionRun, type ProjectionVersions } from './projection-catalog';

const run = (version: number, overrides: Partial<ProjectionRun> = {}): ProjectionRun => ({
  name: 'timeline',
  version,
  state: 'LIVE',
  eventsProcessed: 100 * version,
  lagEvents: version,
  lagSeconds: 0.5,
  progress: 0.25,
  error: null,
  startedAt: new Date(Date.UTC(2026, 0, version)),
  updatedAt: new Date(Date.UTC(2026, 1, version)),
  ...overrides,
});
const versions = (serving: number, rebuilding: number | null): ProjectionVersions => ({
  name: 'timeline',
  serving,
  rebuilding,
  rebuildRequestedAt: rebuilding === null ? null : new Date(Date.UTC(2026, 2, 1)),
});

describe('projectionStatus: the public status of a projection', () => {
  it('is the serving version when no rebuild runs (no progress)', () => {
    expect(projectionStatus(versions(3, null), run(3), undefined)).toMatchObject({
      version: 3, state: 'LIVE', eventsProcessed: 300, lagEvents: 3, progress: null, rebuildingVersion: null, error: null,
    });
  });

  it('is REBUILDING with the new version progress, still naming the serving version', () => {
    const status = projectionStatus(versions(1, 2), run(1), run(2, { state: 'REBUILDING', progress: 0.4 }));
    expect(status).toMatchObject({ version: 1, state: 'REBUILDING', progress: 0.4, rebuildingVersion: 2, eventsProcessed: 100 });
    expect(status.startedAt).toEqual(run(2).startedAt);
  });

  it('is REBUILDING at progress 0 before the projector picked the request up', () => {
    const status = projectionStatus(versions(1, 2), run(1), undefined);
    expect(status).toMatchObject({ state: 'REBUILDING', progress: 0 });
    expect(status.startedAt).toEqual(new Date(Date.UTC(2026, 2, 1)));
  });

  it('is FAILED when either version failed, saying which', () => {
    expect(projectionStatus(versions(1, 2), run(1), run(2, { state: 'FAILED', error: 'cannot apply X' }))).toMatchObject({
      state: 'FAILED', error: 'rebuild of v2: cannot apply X',
    });
    expect(projectionStatus(versions(1, null), run(1, { state: 'FAILED', error: 'boom' }), undefined)).toMatchObject({ state: 'FAILED', error: 'boom' });
  });
});
