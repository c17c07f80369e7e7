import { ProjectionCatalog, TimelineReader, type CassandraClient } from '@parley/cassandra';
import { readToEnd, type KafkaEventLog } from '@parley/event-log';
import { waitFor } from '@parley/testing';
import type { ChildProcess } from 'node:child_process';
import { buildApps, events, expectedRows, groupId, projectorEnvironment, snapshot, startProjectorProcess, waitUntilCaughtUp } from './projector-fixtures';

const USERS = ['alice', 'bob', 'carol', 'dave'];
const CONVERSATIONS = Array.from({ length: 6 }, (_, c) => groupId(`rebuild${c}`));

describe('rebuilding projections beside the serving ones (projector as a process)', () => {
  let env: Awaited<ReturnType<typeof projectorEnvironment>>;
  let log: KafkaEventLog;
  let cassandra: CassandraClient;
  let catalog: ProjectionCatalog;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    buildApps();
    env = await projectorEnvironment(50);
    // Small rebuild chunks: the rebuild takes long enough for the kill to land part-way.
    env.env.PROJECTOR_REBUILD_CHUNK_SIZE = '25';
    ({ log, cassandra } = env);
    catalog = new ProjectionCatalog(cassandra, env.keyspace);
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await env.release();
  });

  it('switches timeline and inbox to v2 while messages keep coming and reads keep answering, resuming after a SIGKILL; every message once, in log order', async () => {
    for (const [c, id] of CONVERSATIONS.entries()) {
      await log.append(id, events.group(id, USERS[c % 4], USERS.filter((u) => u !== USERS[c % 4])));
      for (let batch = 0; batch < 5; batch++) {
        await log.append(id, Array.from({ length: 100 }, (_, i) => events.message(id, USERS[(i + c) % 4], `base-${batch}-${i}`)));
      }
    }
    child = startProjectorProcess(env.env);
    await waitUntilCaughtUp(cassandra, env.keyspace, log, 90_000);

    // Messages keep being sent for the whole rebuild (paced load, not timing-dependent assertions).
    let sending = true;
    let sent = 0;
    const sender = (async () => {
      while (sending) {
        const id = CONVERSATIONS[sent % CONVERSATIONS.length];
        await log.append(id, [events.message(id, USERS[sent % 4], `live-${sent}`)]);
        sent++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // Reads keep answering: every read uses the version serving at that moment, as the API does.
    let reading = true;
    const reads = { ok: 0, failed: [] as string[], versionsSeen: new Set<number>() };
    const reader = (async () => {
      while (reading) {
        const serving = (await catalog.versions()).find((v) => v.name === 'timeline')!.serving;
        reads.versionsSeen.add(serving);
        await new TimelineReader(cassandra, env.keyspace, serving)
          .page(CONVERSATIONS[0], { direction: 'backward', limit: 20 })
          .then((page) => (page.messages.length === 20 ? reads.ok++ : reads.failed.push(`v${serving}: ${page.messages.length} messages`)))
          .catch((err: Error) => reads.failed.push(`v${serving}: ${err.message}`));
      }
    })();

    expect((await catalog.requestRebuild('timeline')).outcome).toBe('started');
    expect((await catalog.requestRebuild('inbox')).outcome).toBe('started');
    const second = await catalog.requestRebuild('timeline');
    expect(second).toMatchObject({ outcome: 'conflict', versions: { serving: 1, rebuilding: 2 } });
    expect(await catalog.requestRebuild('no-such-projection')).toEqual({ outcome: 'unknown' });

    // Kill the projector while the rebuild is part-way, then start it again: it resumes.
    // Checkpoints are committed per chunk (progress is saved only once a second): kill between two of them.
    const total = [...(await log.endOffsets()).values()].reduce((sum, o) => sum + BigInt(o), 0n);
    await waitFor('the timeline rebuild to be part-way', async () => {
      const rows = await cassandra.execute(`SELECT next_offset FROM ${env.keyspace}.projection_checkpoints WHERE projection = 'timeline' AND version = 2`);
      const committed = rows.rows.reduce((sum, r) => sum + BigInt(r.get('next_offset')), 0n);
      return committed > 100n && committed < total - 500n;
    }, { timeoutMs: 60_000, intervalMs: 5 });
    child.kill('SIGKILL');
    await waitFor('the projector to be dead', () => child!.exitCode !== null || child!.signalCode !== null);
    expect((await catalog.status('timeline'))?.state).toBe('REBUILDING');
    child = startProjectorProcess(env.env);

    await waitFor('timeline and inbox to serve v2', async () => {
      const versions = (await catalog.versions()).filter((v) => v.name === 'timeline' || v.name === 'inbox');
      return versions.length === 2 && versions.every((v) => v.serving === 2 && v.rebuilding === null);
    }, { timeoutMs: 120_000, intervalMs: 50 });
    const sentBeforeSwitch = sent;
    await waitFor('more messages after the switch', () => sent >= sentBeforeSwitch + 20);
    sending = false;
    reading = false;
    await Promise.all([sender, reader]);

    await waitUntilCaughtUp(cassandra, env.keyspace, log, 60_000, 2);
    const status = await catalog.status('timeline');
    expect(status).toMatchObject({ version: 2, state: 'LIVE', rebuildingVersion: null });
    expect(reads.failed).toEqual([]);
    expect(reads.ok).toBeGreaterThan(0);
    expect([...reads.versionsSeen].sort()).toEqual([1, 2]);

    // Exactly the rows a clean run over the whole log gives: nothing lost, nothing doubled.
    expect(await snapshot(cassandra, env.keyspace, 2)).toEqual(await expectedRows(log));
    // And, in the public reader's terms: each conversation's messages once each, in log order.
    const all = await readToEnd(log);
    const timeline = new TimelineReader(cassandra, env.keyspace, 2);
    for (const id of CONVERSATIONS) {
      const logged = all.flatMap((e) => (e.conversationId === id && e.event.type === 'MessageSent' ? [e.event.data.messageId] : []));
      const page = await timeline.page(id, { direction: 'forward', limit: 10_000 });
      expect(page.messages.map((m) => m.id)).toEqual(logged);
    }

    // The old version's storage goes once readers have moved on.
    await waitFor('v1 tables and status to be dropped', async () => {
      const tables = await cassandra.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [env.keyspace]);
      const runs = await catalog.runs();
      return !tables.rows.some((r) => /^(timeline|inbox)_.*_v1$/.test(r.get('table_name'))) && !runs.some((r) => r.version === 1 && r.name !== 'presence');
    }, { timeoutMs: 30_000 });
  }, 300_000);
});
