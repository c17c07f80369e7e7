import type { ProjectionStatus } from '@parley/cassandra';
import { projectionProgress } from './admin';

const status = (eventsProcessed: number): ProjectionStatus =>
  ({ name: 'timeline', version: 1, state: 'LIVE', eventsProcessed, lagEvents: 0, lagSeconds: 0, progress: 1, startedAt: null, updatedAt: new Date(0), error: null }) as unknown as ProjectionStatus;

describe('projectionProgress', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('yields the status, then only changes, and stops polling the catalog when the subscriber goes', async () => {
    let polls = 0;
    let processed = 1;
    const catalog = { status: async () => (polls++, status(processed)) };
    const progress = projectionProgress(catalog, 'timeline');
    expect((await progress.next()).value).toMatchObject({ eventsProcessed: 1 });
    const next = progress.next();
    await jest.advanceTimersByTimeAsync(1_000); // unchanged: polled, nothing yielded
    expect(polls).toBeGreaterThan(2);
    processed = 2;
    await jest.advanceTimersByTimeAsync(250);
    expect((await next).value).toMatchObject({ eventsProcessed: 2 });
    const waiting = progress.next(); // waits between polls when the subscriber goes
    await progress.return!();
    const pollsAtReturn = polls;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(polls).toBeLessThanOrEqual(pollsAtReturn + 1);
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});
