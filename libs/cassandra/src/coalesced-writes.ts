import type { Client } from 'cassandra-driver';

interface Statement {
  readonly query: string;
  readonly params: unknown[];
}

interface Queued {
  readonly statement: Statement;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** At most this many statements per request; more go in further requests at once. */
const MAX_STATEMENTS = 64;

/**
 * Small writes submitted in one turn of the event loop, by any caller on the client, go to
 * Cassandra as one UNLOGGED batch (a single statement as itself): e.g. the checkpoints that
 * the projections commit for many partitions at once are one request, not one each. Every
 * caller's promise settles with its request. Only for idempotent writes that need not be atomic
 * with each other (each carries its own write time).
 */
export class CoalescedWrites {
  private queued: Queued[] = [];

  constructor(private readonly client: Client) {}

  write(statement: Statement): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.queued.push({ statement, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    for (let i = 0; i < queued.length; i += MAX_STATEMENTS) {
      const part = queued.slice(i, i + MAX_STATEMENTS);
      const request =
        part.length === 1
          ? this.client.execute(part[0].statement.query, part[0].statement.params, { prepare: true })
          : this.client.batch(
              part.map((q) => q.statement),
              { prepare: true, logged: false },
            );
      request.then(
        () => part.forEach((q) => q.resolve()),
        (err: unknown) => part.forEach((q) => q.reject(err)),
      );
    }
  }
}

const byClient = new WeakMap<Client, CoalescedWrites>();

/** The client's coalescer: shared by every store on it, so their writes of one turn go together. */
export function coalescedWrites(client: Client): CoalescedWrites {
  let writes = byClient.get(client);
  if (!writes) byClient.set(client, (writes = new CoalescedWrites(client)));
  return writes;
}
