import type { Client } from 'cassandra-driver';
import { CoalescedWrites } from './coalesced-writes';

/** A client that records its requests and answers them as told. */
function recordingClient(fail = false) {
  const requests: Array<{ kind: 'execute' | 'batch'; statements: number; logged?: boolean }> = [];
  const answer = () => (fail ? Promise.reject(new Error('NoHostAvailable')) : Promise.resolve({}));
  const client = {
    execute: (_query: string, _params: unknown[]) => (requests.push({ kind: 'execute', statements: 1 }), answer()),
    batch: (statements: unknown[], options: { logged: boolean }) => (requests.push({ kind: 'batch', statements: statements.length, logged: options.logged }), answer()),
  } as unknown as Client;
  return { client, requests };
}

const statement = (i: number) => ({ query: 'INSERT INTO ks.checkpoints (partition) VALUES (?)', params: [i] });

describe('CoalescedWrites', () => {
  it('sends the writes of one turn as one unlogged batch, and a lone write as itself', async () => {
    const { client, requests } = recordingClient();
    const writes = new CoalescedWrites(client);
    await Promise.all([0, 1, 2].map((i) => writes.write(statement(i))));
    await writes.write(statement(3));
    expect(requests).toEqual([
      { kind: 'batch', statements: 3, logged: false },
      { kind: 'execute', statements: 1 },
    ]);
  });

  it('splits a large turn into batches of at most 64 statements', async () => {
    const { client, requests } = recordingClient();
    const writes = new CoalescedWrites(client);
    await Promise.all(Array.from({ length: 130 }, (_, i) => writes.write(statement(i))));
    expect(requests.map((r) => r.statements)).toEqual([64, 64, 2]);
  });

  it('fails every write of a request that fails', async () => {
    const { client } = recordingClient(true);
    const writes = new CoalescedWrites(client);
    const outcomes = await Promise.allSettled([writes.write(statement(0)), writes.write(statement(1))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });
});
