import { loadConfig } from '@parley/config';
import { CONVERSATION_EVENT_TYPES } from '@parley/domain';
import type { ReadProgress } from '@parley/event-log';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { CliConfig, openEventLog, type OpenedEventLog } from './cli.config';
import { parseReplayOptions, REPLAY_FORMATS, runReplay, type RawReplayOptions } from './replay';

export interface ReplayCommandDeps {
  /** Where the event log comes from; Kafka as configured by the environment unless a test says otherwise. */
  readonly openLog?: () => Promise<OpenedEventLog>;
  readonly stdout?: Writable;
  readonly stderr?: NodeJS.WriteStream;
  /** Ends the replay (Ctrl-C). */
  readonly signal?: AbortSignal;
}

const EXAMPLES = `
Times are ISO-8601: a date (midnight UTC) or a date and time with a zone.
The range is [--from, --to) on occurredAt; without them, the whole log as it is at the start.
Records come ordered by (occurredAt, cursor), in log order within a conversation.

Examples:
  $ parley replay --from 2026-01-01 --to 2026-02-01 > january.ndjson
  $ parley replay --from 2026-01-01T09:00:00Z --to 2026-01-01T10:00:00+00:00 --type MessageSent --format csv --output hour.csv
  $ parley replay --conversation g_01jnfx3c9m8q2v7k4x6b5n1t0r --type UserJoined --type UserLeft
  $ parley replay --from 2026-01-01 --follow | jq .type

Environment: KAFKA_BROKERS, KAFKA_CLIENT_ID, EVENTS_TOPIC, EVENTS_TOPIC_PARTITIONS.
Exit codes: 0 done, 1 failed, 2 bad command line.`;

const collect = (value: string, previous: string[]) => [...previous, value];

/** A progress bar on stderr, only when stderr is a terminal. */
function progressBar(stderr: NodeJS.WriteStream): { update(progress: ReadProgress): void; stop(): void } | undefined {
  if (!stderr.isTTY) return undefined;
  const bar = new SingleBar(
    { stream: stderr, format: 'replay [{bar}] {percentage}% | {value}/{total} records | ETA {eta_formatted}', hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update({ total, read }) {
      if (!started) {
        bar.start(Math.max(total, read), read);
        started = true;
        return;
      }
      if (read > total) bar.setTotal(read); // following past the end of the start
      bar.update(read);
    },
    stop: () => bar.stop(),
  };
}

export function registerReplayCommand(program: Command, deps: ReplayCommandDeps = {}): Command {
  return program
    .command('replay')
    .description('Write the events of a time range, one record per line (NDJSON or CSV), in order.')
    .option('--from <time>', 'start of the range, inclusive (default: the start of the log)')
    .option('--to <time>', 'end of the range, exclusive (default: the end of the log when the replay starts)')
    .option('--type <type>', `only this event type; repeat for more (${CONVERSATION_EVENT_TYPES.join(', ')})`, collect, [])
    .option('--conversation <id>', 'only this conversation')
    .option('--format <format>', `${REPLAY_FORMATS.join(' or ')}`, 'ndjson')
    .option('--output <file>', 'write to this file instead of stdout')
    .option('--follow', 'after the range, keep writing events as they are appended, until interrupted')
    .addHelpText('after', EXAMPLES)
    .action(async (raw: RawReplayOptions) => {
      const options = parseReplayOptions(raw); // before any connection: a typo costs nothing
      const opened = await (deps.openLog ?? (() => openEventLog(loadConfig(CliConfig))))();
      const stderr = deps.stderr ?? process.stderr;
      const bar = progressBar(stderr);
      try {
        const output = options.output === undefined ? (deps.stdout ?? process.stdout) : createWriteStream(options.output);
        const summary = await runReplay(options, opened.log, output, {
          signal: deps.signal,
          ...(bar ? { onProgress: (progress: ReadProgress) => bar.update(progress) } : {}),
        });
        bar?.stop();
        if (options.output !== undefined && stderr.isTTY) stderr.write(`${summary.events} events written to ${options.output}\n`);
      } finally {
        bar?.stop();
        await opened.close();
      }
    });
}
