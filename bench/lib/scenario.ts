/** The line a scenario process prints its result on (stdout); anything else goes to stderr. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Progress for the person watching (stderr, so it never mixes with the result line). */
export const progress = (message: string): void => void process.stderr.write(`  ${message}\n`);

/**
 * Entry point of a scenario process: input as JSON in argv[2], the result as one JSON line.
 * `cleanup` runs on success, failure and SIGTERM (the orchestrator's time limit).
 */
export function runScenario<I, O>(main: (input: I) => Promise<O>, cleanup: () => Promise<void> | void = () => undefined): void {
  const input = JSON.parse(process.argv[2] ?? '{}') as I;
  let exiting = false;
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    await Promise.resolve(cleanup()).catch((err: unknown) => console.error('cleanup failed:', err));
    process.exit(code);
  };
  process.once('SIGTERM', () => void exit(143));
  process.once('SIGINT', () => void exit(130));
  main(input).then(
    (result) => {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
      return exit(0);
    },
    (err: unknown) => {
      console.error(err);
      return exit(1);
    },
  );
}
