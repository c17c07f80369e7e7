import type { CassandraClient } from '@parley/cassandra';
import type { KafkaEventLog } from '@parley/event-log';
import { waitFor } from '@parley/testing';
import type { ChildProcess } from 'node:child_process';
import { buildApps, events, expectedRows, groupId, projectorEnvironment, snapshot, startProjectorProcess as startProcess, waitUntilCaughtUp } from './projector-fixtures';

async function committedEvents(cassandra: CassandraClient, keyspace: string): Promise<bigint> {
  const result = await cassandra.execute(`SELECT next_offset FROM ${keyspace}.projection_checkpoints`).catch(() => undefined);
  return (result?.rows ?? []).reduce((sum, r) => sum + BigInt(r.get('next_offset')), 0n);
}

describe('projector killed mid-stream (SIGKILL) and restarted', () => {
  let env: Awaited<ReturnType<typeof projectorEnvironment>>;
  let log: KafkaEventLog;
  let cassandra: CassandraClient;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    buildApps();
    // Small chunks: many commits, so the kill lands between and inside them.
    env = await projectorEnvironment(7);
    ({ log, cassandra } = env);
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await env.release();
  });

  it('ends with exactly the expected rows: nothing lost, nothing doubled', async () => {
    const users = ['alice', 'bob', 'carol', 'dave'];
    for (let c = 0; c < 12; c++) {
      const id = groupId(`crash${c}`);
      await log.append(id, events.group(id, users[c % 4], users.filter((u) => u !== users[c % 4])));
    }
    for (let round = 0; round < 25; round++) {
      for (let c = 0; c < 12; c++) {
        const id = groupId(`crash${c}`);
        const batch = [events.message(id, users[(round + c) % 4], `k${round}`)];
        if (round === 10 && c % 3 === 0) batch.push(events.left(id, users[(c + 1) % 4]));
        if (round === 15 && c % 3 === 0) batch.push(events.joined(id, users[(c + 1) % 4]));
        await log.append(id, batch);
      }
    }
    const total = [...(await log.endOffsets()).values()].reduce((s, o) => s + BigInt(o), 0n);

    child = startProcess(env.env);
    // Kill it once some, but not all, of the log is committed (the projector is mid-stream).
    await waitFor('part of the log to be committed', async () => {
      const committed = await committedEvents(cassandra, env.keyspace);
      return committed > 20n && committed < total * 2n - 20n;
    }, { timeoutMs: 60_000, intervalMs: 20 });
    child.kill('SIGKILL');
    await waitFor('the projector to be dead', () => child!.exitCode !== null || child!.signalCode !== null);

    child = startProcess(env.env);
    await waitUntilCaughtUp(cassandra, env.keyspace, log, 90_000);
    child.kill('SIGTERM');

    expect(await snapshot(cassandra, env.keyspace)).toEqual(await expectedRows(log));
  }, 240_000);
});
