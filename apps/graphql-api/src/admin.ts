import type { ProjectionCatalog, ProjectionStatus } from '@parley/cassandra';
import { apiError } from './errors';

/** The contract's ProjectionStatus. */
export const projectionStatusNode = (s: ProjectionStatus) => ({
  name: s.name,
  version: s.version,
  state: s.state,
  eventsProcessed: s.eventsProcessed,
  lagEvents: s.lagEvents,
  lagSeconds: s.lagSeconds,
  progress: s.progress,
  startedAt: s.startedAt?.toISOString() ?? null,
  updatedAt: s.updatedAt.toISOString(),
  error: s.error,
});

export type ProjectionStatusNode = ReturnType<typeof projectionStatusNode>;

const POLL_MS = 250;
/** Resolves after `ms`, or at once when `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Starts a rebuild; the status returned says REBUILDING and the version still serving reads. */
export async function requestRebuild(catalog: ProjectionCatalog, name: string): Promise<ProjectionStatusNode> {
  const request = await catalog.requestRebuild(name);
  if (request.outcome === 'unknown') throw apiError('NOT_FOUND', `No projection named ${JSON.stringify(name)}`);
  if (request.outcome === 'conflict') {
    throw apiError('CONFLICT', `A rebuild of ${name} (v${request.versions.rebuilding}) is already running; watch it with projectionProgress`);
  }
  const status = await catalog.status(name);
  return projectionStatusNode(status!);
}

/**
 * A projection's status from the durable catalog: at once, then on every change, and at least
 * once a second while REBUILDING (the catalog is polled; the projector saves progress about
 * once a second). The polling stops as soon as the subscriber goes (`return()`), even while it
 * waits between polls (an async generator would poll on until its next change).
 */
export function projectionProgress(catalog: Pick<ProjectionCatalog, 'status'>, name: string): AsyncIterableIterator<ProjectionStatusNode> {
  const stopped = new AbortController();
  const polls = poll(catalog, name, stopped.signal);
  const iterator: AsyncIterableIterator<ProjectionStatusNode> = {
    next: () => polls.next(),
    async return() {
      stopped.abort();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

async function* poll(catalog: Pick<ProjectionCatalog, 'status'>, name: string, stopped: AbortSignal): AsyncGenerator<ProjectionStatusNode> {
  let last = '';
  let lastSentAt = 0;
  while (!stopped.aborted) {
    const status = await catalog.status(name);
    if (!status) throw apiError('NOT_FOUND', `No projection named ${JSON.stringify(name)}`);
    const node = projectionStatusNode(status);
    const { updatedAt: _, ...comparable } = node;
    const changed = JSON.stringify(comparable) !== last;
    if (changed || (node.state === 'REBUILDING' && Date.now() - lastSentAt >= 1_000 - POLL_MS)) {
      last = JSON.stringify(comparable);
      lastSentAt = Date.now();
      yield node;
    }
    await sleep(POLL_MS, stopped);
  }
}
