/**
 * The `msif` command (contract §4), the entry of `dist/cli.js`. Runs the jobs in this
 * process: progress and log lines to stderr, the result (JSON) to stdout or `--out`, and
 * on failure exactly one line `msif: <message>` on stderr.
 *
 * Exit status: 0 success, 1 error, 2 usage error, 130 interrupted (SIGINT).
 */
import { isCancelled, MsifError } from '../common/errors';
import { initBackend } from '../worker/backend';
import { runTrace, runTrain } from '../worker/jobs';
import type { JobContext } from '../worker/jobs';
import { version } from '../../package.json';
import { parseArgs, USAGE } from './args';
import type { CliCommand } from './args';
import { assertCanCreate, writeFileAtomic } from './atomicWrite';
import { createProgressDisplay } from './progressDisplay';
import { formatTraceSummary } from './summary';
import { runAnalysisCommand } from './analysisCommands';
import { runValidateCommand } from './validateCommand';
import type { TraceReport } from '../protocol/report';

const EXIT_ERROR = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

/** Runs the command line `argv` (the arguments after `msif`); resolves to the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = (): void => {
    // A second Ctrl-C does not wait for the job to notice the first.
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const command = parseArgs(argv);
    switch (command.kind) {
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      case 'version':
        process.stdout.write(`${version}\n`);
        return 0;
      case 'validate':
        await runValidateCommand(command, controller.signal);
        return 0;
      case 'trace':
      case 'train':
        await runJob(command, controller.signal);
        return 0;
      case 'cleanse':
      case 'similarity':
        await runAnalysisCommand(command, controller.signal);
        return 0;
    }
  } catch (e) {
    return reportError(e, controller.signal.aborted);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Runs a trace or train job and writes its result. */
async function runJob(command: Extract<CliCommand, { kind: 'trace' | 'train' }>, signal: AbortSignal): Promise<void> {
  const out = command.kind === 'trace' ? command.out : undefined;
  if (out !== undefined) await assertCanCreate(out, '--out');
  const backend = await initBackend(command.backend);
  if (process.env['MSIF_DEBUG']) process.stderr.write(`backend: ${backend.reason}\n`);
  const display = createProgressDisplay(process.stderr);
  const ctx: JobContext = { signal, onProgress: display.update, log: display.log };
  let result: unknown;
  try {
    result =
      command.kind === 'trace'
        ? await runTrace(command.config, command.options, ctx)
        : await runTrain(command.config, ctx);
  } finally {
    display.dispose();
  }
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (out === undefined) {
    process.stdout.write(json);
  } else {
    await writeFileAtomic(out, json);
    // The report is in the file: stdout is free for a summary a person can read.
    if (command.kind === 'trace') process.stdout.write(formatTraceSummary(result as TraceReport, out));
  }
}

/** Prints the one-line error and returns the exit status. */
function reportError(e: unknown, interrupted: boolean): number {
  if (isCancelled(e) || interrupted) {
    process.stderr.write(`msif: interrupted\n`);
    return EXIT_INTERRUPTED;
  }
  if (e instanceof MsifError) {
    process.stderr.write(`msif: ${e.message}\n`);
    return e.code === 'usage' ? EXIT_USAGE : EXIT_ERROR;
  }
  if (process.env['MSIF_DEBUG'] && e instanceof Error && e.stack) {
    process.stderr.write(`msif: ${e.stack}\n`);
  } else {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    process.stderr.write(`msif: ${message} (unexpected error; rerun with MSIF_DEBUG=1 for the stack)\n`);
  }
  return EXIT_ERROR;
}

void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
