import type { Command } from 'commander';
import type * as Projections from './projections';
import type { ProjectionsIo } from './projections';

/** The projections commands and Cassandra's driver load only when one of them runs: `parley replay` starts without them. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = async (): Promise<typeof Projections> => require('./projections');

const ENVIRONMENT = '\nEnvironment: CASSANDRA_CONTACT_POINTS, CASSANDRA_LOCAL_DC, CASSANDRA_KEYSPACE (where the projector keeps its catalog).';

/** `parley projections list | status [NAME] | rebuild NAME`. */
export function registerProjectionsCommands(program: Command, io: ProjectionsIo = { out: process.stdout, err: process.stderr }): Command {
  const projections = program
    .command('projections')
    .description('Projections (read models): their versions, state and lag; rebuild one without downtime.')
    .addHelpText('after', ENVIRONMENT);

  projections
    .command('list')
    .description('One line per projection: serving version, state, events processed, lag, rebuild progress.')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) => {
      const { withCatalog, listProjections } = await load();
      return withCatalog((catalog) => listProjections(catalog, io, options.json));
    });

  projections
    .command('status')
    .argument('[name]', 'a projection (timeline, inbox, presence); all when omitted')
    .description('Version, state, events processed, lag in events and seconds, rebuild progress, last error.')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const { withCatalog, showStatus } = await load();
      return withCatalog((catalog) => showStatus(catalog, io, name, options.json));
    });

  projections
    .command('rebuild')
    .argument('<name>', 'the projection to rebuild (timeline, inbox, presence)')
    .description(
      'Build version N+1 from the start of the log beside the serving version N (which keeps serving reads and following the log); ' +
        'reads switch to N+1 once it has caught up, and N is dropped. The projector does the work: this command asks, then shows ' +
        'progress (rate, ETA) until the switch. Refused while a rebuild of that projection runs.',
    )
    .option('--detach', 'return once the rebuild is requested')
    .addHelpText('after', `\nExamples:\n  $ parley projections rebuild timeline\n  $ parley projections rebuild inbox --detach && parley projections status inbox${ENVIRONMENT}\nExit codes: 0 switched (or requested, with --detach), 1 refused or failed, 2 bad command line.`)
    .action(async (name: string, options: { detach?: boolean }) => {
      const { withCatalog, rebuildProjection } = await load();
      return withCatalog((catalog) => rebuildProjection(catalog, io, name, { detach: options.detach }));
    });

  return projections;
}
