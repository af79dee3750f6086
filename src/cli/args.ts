/**
 * The `msif` command line (contract §4): a hand-written parser. Pure: takes the
 * arguments after `msif` and returns the command, or throws a one-line
 * {@link MsifError} with code `usage`.
 */
import { MsifError } from '../common/errors';
import type { EmbeddingCase } from '../common/workspaceConfig';
import { BACKEND_PREFERENCES } from '../protocol/engineProtocol';
import type { BackendPreference } from '../protocol/engineProtocol';
import type { TraceOptions } from '../protocol/jobTypes';

/** What the user asked for. `config` is the path as given (relative to the working directory). */
export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'trace';
      readonly config: string;
      readonly options: TraceOptions;
      readonly out?: string;
      readonly backend?: BackendPreference;
    }
  | { readonly kind: 'train'; readonly config: string; readonly backend?: BackendPreference }
  | { readonly kind: 'validate'; readonly config: string; readonly sample: number; readonly backend?: BackendPreference };

/** `msif --help`. */
export const USAGE = `msif: multi-stage influence functions (Chen et al., NeurIPS 2020)

Usage:
  msif trace    --config msif.json --test <index|id|all|misclassified>
                [--case fixed|updated] [--top K] [--out report.json] [--backend B]
  msif train    --config msif.json [--backend B]
  msif validate --config msif.json --sample N [--backend B]   (not yet available)
  msif --help | --version

  trace     scores every pretraining example for the selected test points and writes
            the report (JSON) to --out or stdout
  train     trains both stages from the workspace's "training" settings, writes the models
  validate  leave-one-out retraining check

Options:
  --config FILE   the workspace file (msif.json)
  --test T        a test example's index or id, "all" (sum over the test set) or
                  "misclassified" (sum over the misclassified test points)
  --case C        "fixed" or "updated": overrides finetune.embedding
  --top K         how many harmful and helpful examples to list
  --out FILE      write the report here (only on success) instead of stdout
  --backend B     auto (default), tensorflow, native, wasm or cpu; MSIF_BACKEND overrides it
  --sample N      how many pretraining examples to retrain without

Progress goes to stderr. Exit status: 0 success, 1 error, 2 usage error, 130 interrupted.
Set MSIF_DEBUG=1 to print the stack of an unexpected error.
`;

type Command = 'trace' | 'train' | 'validate';

/** The flags each command accepts; every flag takes a value. */
const FLAGS: Record<Command, readonly string[]> = {
  trace: ['config', 'test', 'case', 'top', 'out', 'backend'],
  train: ['config', 'backend'],
  validate: ['config', 'sample', 'backend'],
};

const CASES: readonly EmbeddingCase[] = ['fixed', 'updated'];

/** Parses the arguments after `msif`. */
export function parseArgs(argv: readonly string[]): CliCommand {
  if (argv.some((a) => a === '--help' || a === '-h') || argv[0] === 'help') return { kind: 'help' };
  if (argv.some((a) => a === '--version' || a === '-V')) return { kind: 'version' };
  const [command, ...rest] = argv;
  if (command === undefined) throw usage('missing command', 'trace, train or validate');
  if (!isCommand(command)) throw usage(`unknown command '${command}'`, 'trace, train or validate');
  const flags = readFlags(command, rest);
  const config = required(flags, 'config', command);
  const backend = oneOf(flags, 'backend', BACKEND_PREFERENCES);
  const withBackend = backend === undefined ? {} : { backend };
  switch (command) {
    case 'trace': {
      const test = required(flags, 'test', command);
      const embedding = oneOf(flags, 'case', CASES);
      const top = integer(flags, 'top', 0);
      const out = flags.get('out');
      const options: TraceOptions = {
        test,
        ...(embedding === undefined ? {} : { case: embedding }),
        ...(top === undefined ? {} : { top }),
      };
      return { kind: 'trace', config, options, ...(out === undefined ? {} : { out }), ...withBackend };
    }
    case 'train':
      return { kind: 'train', config, ...withBackend };
    case 'validate': {
      const sample = integer(flags, 'sample', 1);
      if (sample === undefined) throw usage(`'msif validate' needs --sample`, '--sample N');
      return { kind: 'validate', config, sample, ...withBackend };
    }
  }
}

function isCommand(s: string): s is Command {
  return Object.prototype.hasOwnProperty.call(FLAGS, s);
}

/** Reads `--name value` and `--name=value` pairs; names are returned without dashes. */
function readFlags(command: Command, args: readonly string[]): Map<string, string> {
  const allowed = FLAGS[command];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw usage(`unexpected argument '${arg}'`, `flags of 'msif ${command}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!allowed.includes(name)) {
      throw usage(`unknown flag '--${name}' for 'msif ${command}'`, `one of ${allowed.map((f) => `--${f}`).join(', ')}`);
    }
    if (flags.has(name)) throw usage(`--${name} is given twice`, 'each flag at most once');
    let value: string | undefined;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      value = args[i + 1];
      if (value !== undefined && value.startsWith('--')) value = undefined;
      i++;
    }
    if (value === undefined || value === '') throw usage(`--${name} needs a value`, `--${name} ${placeholder(name)}`);
    flags.set(name, value);
  }
  return flags;
}

function required(flags: ReadonlyMap<string, string>, name: string, command: Command): string {
  const value = flags.get(name);
  if (value === undefined) throw usage(`'msif ${command}' needs --${name}`, `--${name} ${placeholder(name)}`);
  return value;
}

function oneOf<T extends string>(flags: ReadonlyMap<string, string>, name: string, options: readonly T[]): T | undefined {
  const value = flags.get(name);
  if (value === undefined) return undefined;
  const found = options.find((o) => o === value);
  if (found === undefined) throw usage(`--${name} is '${value}'`, `one of ${options.join(', ')}`);
  return found;
}

function integer(flags: ReadonlyMap<string, string>, name: string, min: number): number | undefined {
  const value = flags.get(name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw usage(`--${name} is '${value}'`, `an integer ≥ ${min}`);
  return n;
}

function placeholder(name: string): string {
  switch (name) {
    case 'config':
      return 'msif.json';
    case 'test':
      return '<index|id|all|misclassified>';
    case 'case':
      return 'fixed|updated';
    case 'out':
      return 'report.json';
    case 'backend':
      return BACKEND_PREFERENCES.join('|');
    default:
      return 'N';
  }
}

function usage(problem: string, expected: string): MsifError {
  return new MsifError('usage', problem, { expected });
}
