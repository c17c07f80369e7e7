#!/usr/bin/env node
import 'reflect-metadata';
import { EventsQueryError } from '@parley/event-log';
import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { registerProjectionsCommands } from './projections.command';
import { UsageError } from './replay';
import { registerReplayCommand } from './replay.command';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** Parley's version: its package.json's, found above this file (in the sources and in dist alike). */
export function parleyVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'parley' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

export function buildProgram(signal?: AbortSignal): Command {
  const program = new Command('parley')
    .description('Parley for analysts and admins: replay the event log, manage projections.')
    .version(parleyVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    // Throw instead of exiting, so that every usage error leaves with the same code.
    .exitOverride();
  registerReplayCommand(program, { signal });
  registerProjectionsCommands(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  const interrupted = new AbortController();
  // The first Ctrl-C ends the replay cleanly (what was read is written); a second one kills.
  process.once('SIGINT', () => interrupted.abort());
  process.once('SIGTERM', () => interrupted.abort());
  const program = buildProgram(interrupted.signal);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE; // commander has said why
    if (err instanceof UsageError || err instanceof EventsQueryError) {
      process.stderr.write(`parley: ${err.message}\n(run with --help for usage)\n`);
      return EXIT_USAGE;
    }
    if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return 0; // the reader went away (| head)
    process.stderr.write(`parley: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILED;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
