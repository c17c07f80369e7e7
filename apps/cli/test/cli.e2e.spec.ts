import { loadConfig } from '@parley/config';
import { createKafka, KafkaConfig, KafkaEventLog } from '@parley/event-log';
import { uniqueName } from '@parley/testing';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { conversationsOn, newEvent } from './replay-fixtures';

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
const run = promisify(execFile);

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `parley` as a user would, with a deadline. */
async function parley(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout: string; stderr: string; killed?: boolean };
    if (failed.killed || typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the parley command', () => {
  beforeAll(async () => {
    await run('npm', ['run', '--silent', 'build'], { cwd: ROOT, timeout: 120_000 });
    expect(existsSync(MAIN)).toBe(true);
  }, 130_000);

  it('explains replay with --help', async () => {
    const result = await parley(['replay', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: parley replay [options]');
    expect(result.stdout).toContain('--from <time>');
    expect(result.stdout).toContain('--format <format>');
  });

  it('exits 2 with a clear message for a bad --format, before connecting anywhere', async () => {
    const result = await parley(['replay', '--format', 'xml'], { KAFKA_BROKERS: '127.0.0.1:1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--format must be ndjson or csv (got "xml")');
    expect(result.stdout).toBe('');
  });

  it('exits 2 for an unknown option', async () => {
    const result = await parley(['replay', '--form', '2026-01-01']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--form'");
  });

  it('exits 1 naming the topic when EVENTS_TOPIC does not exist, and does not create it', async () => {
    const topic = uniqueName('cli_missing');
    const result = await parley(['replay'], { EVENTS_TOPIC: topic });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Topic ${topic} does not exist (check EVENTS_TOPIC)`);
    const again = await parley(['replay'], { EVENTS_TOPIC: topic });
    expect(again.stderr).toContain('does not exist');
  });

  it('replays a topic given by the environment to stdout, then exits', async () => {
    const topic = uniqueName('cli_e2e');
    const log = new KafkaEventLog(createKafka(loadConfig(KafkaConfig), 'cli-e2e'), topic, 2);
    await log.connect();
    const [[a], [b]] = conversationsOn(log, [0, 1]);
    try {
      await log.append(a, [newEvent(a, 'ConversationCreated', '2026-03-01T10:00:00.000Z')]);
      await log.append(b, [newEvent(b, 'MessageSent', '2026-03-01T10:00:01.000Z', 'hello, "world"')]);
      await log.append(a, [newEvent(a, 'MessageSent', '2026-03-01T11:00:00.000Z', 'too late')]);
    } finally {
      await log.disconnect();
    }

    const result = await parley(['replay', '--to', '2026-03-01T11:00:00Z'], { EVENTS_TOPIC: topic, EVENTS_TOPIC_PARTITIONS: '2' });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(records.map((r) => [r.type, r.conversationId])).toEqual([
      ['ConversationCreated', a],
      ['MessageSent', b],
    ]);
    expect(records[1].payload.body).toBe('hello, "world"');
  });
});
