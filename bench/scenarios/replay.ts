// Scenario 5, replay rate: the built CLI, `parley replay --format ndjson --output <file>`, over
// the bulk log; events per second = lines written / wall time of the command.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { now } from '../lib/clock';
import { runScenario } from '../lib/scenario';
import { perSecond } from '../lib/stats';
import { LOG_DIR, ROOT } from '../lib/system';

export interface ReplayInput {
  readonly env: Record<string, string>;
  readonly topic: string;
  readonly partitions: number;
  readonly events: number;
}

export interface ReplayOutput {
  readonly lines: number;
  readonly elapsedMs: number;
  readonly rate: number;
  readonly bytes: number;
}

let cli: ChildProcess | undefined;
const output = join(LOG_DIR, `replay-${process.pid}.ndjson`);

async function countLines(file: string): Promise<{ lines: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return { lines, bytes };
}

runScenario<ReplayInput, ReplayOutput>(
  async (input) => {
    await mkdir(LOG_DIR, { recursive: true });
    const started = now();
    cli = spawn(process.execPath, [join(ROOT, 'dist/apps/cli/src/main.js'), 'replay', '--format', 'ndjson', '--output', output], {
      env: { ...input.env, EVENTS_TOPIC: input.topic, EVENTS_TOPIC_PARTITIONS: String(input.partitions) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const code = await new Promise<number | null>((resolve) => cli!.once('exit', resolve));
    const elapsedMs = Math.round(now() - started);
    if (code !== 0) throw new Error(`parley replay exited with ${code}`);
    const { lines, bytes } = await countLines(output);
    if (lines !== input.events) throw new Error(`parley replay wrote ${lines} lines for ${input.events} events`);
    return { lines, elapsedMs, rate: perSecond(lines, elapsedMs), bytes };
  },
  async () => {
    cli?.kill();
    await rm(output, { force: true });
  },
);
