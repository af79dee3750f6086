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
import { CLEANSE_SCORINGS } from '../protocol/cleanseReport';
import type { CleanseOptions } from '../protocol/cleanseReport';
import type { SimilarityOptions } from '../protocol/similarityReport';
import { DEFAULT_RETRAIN_OPTIONS, RETRAIN_OBJECTIVES, RETRAIN_STARTS } from '../protocol/validateReport';
import type { RetrainOptions, ValidateOptions } from '../protocol/validateReport';

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
  | {
      readonly kind: 'validate';
      readonly config: string;
      readonly options: ValidateOptions;
      readonly out?: string;
      readonly backend?: BackendPreference;
      /** Processes sharing the retraining runs through the journal (this one and jobs − 1 helpers). */
      readonly jobs?: number;
    }
  | {
      readonly kind: 'cleanse';
      readonly config: string;
      readonly options: CleanseOptions;
      /** Write the pretraining set without the removed examples here (JSON Lines). */
      readonly writeFiltered?: string;
      readonly out?: string;
      readonly backend?: BackendPreference;
    }
  | {
      readonly kind: 'similarity';
      readonly config: string;
      /** The second workspace (B). */
      readonly other: string;
      readonly options: SimilarityOptions;
      readonly out?: string;
      readonly backend?: BackendPreference;
    };

/** `msif --help`. */
export const USAGE = `msif: multi-stage influence functions (Chen et al., NeurIPS 2020)

Usage:
  msif trace    --config msif.json --test <index|id|all|misclassified>
                [--case fixed|updated] [--top K] [--out report.json] [--backend B]
                [--cache on|off]
  msif train    --config msif.json [--backend B]
  msif validate --config msif.json --sample N [--test T] [--case fixed|updated]
                [--seed S] [--retrain response|proximal|plain] [--start base|saved] [--tolerance G]
                [--max-iterations K] [--jobs J] [--out report.json] [--backend B]
  msif cleanse  --config msif.json --percent P [--by heldout|test] [--heldout-fraction F]
                [--case fixed|updated] [--random-trials K] [--seed S]
                [--write-filtered data.jsonl] [--out report.json] [--backend B]
  msif similarity --config a/msif.json --other b/msif.json [--test T]
                [--case fixed|updated] [--out report.json] [--backend B]
  msif --help | --version

  trace     scores every pretraining example for the selected test points and writes
            the report (JSON) to --out or stdout
  train     trains both stages from the workspace's "training" settings, writes the models
  validate  leave-one-out check (paper, Fig. 2): retrains both stages without each of N
            pretraining examples (half of largest |score|, half random) and prints
            Pearson's r between the predicted (−I/m) and the actual change of the test
            loss, per half, with the identity-Hessian and random-score baselines
  cleanse   data cleansing (paper §4.2): removes the top P% harmful pretraining examples,
            retrains both stages from the saved weights, and compares the test accuracy
            and loss with retraining on everything and on K random P% removals
  similarity  task similarity and finetuning-set size (paper §4.3-4.4): traces two
            workspaces and compares their score distributions, per test point

Options:
  --config FILE   the workspace file (msif.json)
  --test T        a test example's index or id, "all" (sum over the test set) or
                  "misclassified" (sum over the misclassified test points)
  --case C        "fixed" or "updated": overrides finetune.embedding
  --top K         how many harmful and helpful examples to list
  --out FILE      write the report here (only on success) instead of stdout
  --backend B     auto (default), tensorflow, native, wasm or cpu; MSIF_BACKEND overrides it
  --cache on|off  trace: reuse the two inverse-HVP solves of an earlier identical query
                  (same model and data file contents, settings, test points, backend;
                  default on). Kept in $MSIF_CACHE_DIR, else $XDG_CACHE_HOME/msif or
                  ~/.cache/msif; MSIF_CACHE=off turns it off everywhere
  --sample N      validate: how many pretraining examples to retrain without; its --test
                  defaults to all, its --seed (default influence.seed) seeds the random
                  half, the random-score baseline and the noise-floor run
  --retrain R     validate: "response" (default: each stage's objective plus
                  (λ/2)‖θ − θ_saved‖², λ its influence damping, minus its gradient at the
                  saved weights, which are then its exact minimiser: the damped response
                  the influence function estimates, also for a model not trained to a
                  stationary point), "proximal" (the same without the gradient term: from
                  a base run's minimiser) or "plain" (true leave-one-out)
  --tolerance G   validate: retraining stops at ‖∇‖ ≤ G (default ${DEFAULT_RETRAIN_OPTIONS.gradientTolerance.toExponential(0)})
  --max-iterations K  validate: or after K L-BFGS steps per stage (default ${DEFAULT_RETRAIN_OPTIONS.maxIterations})
  --start S       validate: where each leave-one-out run starts: "base" (default: the end
                  of the base run, nothing removed, whose objective differs by one example)
                  or "saved" (the saved weights, like the base run)
  --jobs J        validate: share the retraining runs among J processes (this one and J − 1
                  helpers, each on cores/J BLAS threads) through the run journal in the
                  cache directory (default 1); the same command started elsewhere on the
                  same cache directory joins in too
  --percent P     cleanse: the share of the pretraining set to remove, 0 < P < 100
  --by S          cleanse: score harmfulness on "heldout" (default: a seeded split of
                  the finetuning train set, left out of finetuning in every arm, so the
                  test set plays no part in the choice) or on "test" (the test set
                  itself: the cleansed arm's test numbers are then optimistic)
  --heldout-fraction F  cleanse: the held-out share of the finetuning set (default 0.2)
  --random-trials K     cleanse: random removals to compare with (default 3)
  --seed S        cleanse: seeds the held-out split and the random removals
                  (default training.seed)
  --write-filtered FILE cleanse: also write the pretraining set without the removed
                  examples to FILE (JSON Lines; a new file, never one of the workspace)
  --other FILE    similarity: the second workspace

Progress goes to stderr. Exit status: 0 success, 1 error, 2 usage error, 130 interrupted.
Set MSIF_DEBUG=1 to print the stack of an unexpected error.
`;

type Command = 'trace' | 'train' | 'validate' | 'cleanse' | 'similarity';

/** The flags each command accepts; every flag takes a value. */
const FLAGS: Record<Command, readonly string[]> = {
  trace: ['config', 'test', 'case', 'top', 'out', 'backend', 'cache'],
  train: ['config', 'backend'],
  validate: ['config', 'sample', 'test', 'case', 'seed', 'retrain', 'start', 'tolerance', 'max-iterations', 'jobs', 'out', 'backend'],
  cleanse: ['config', 'percent', 'by', 'heldout-fraction', 'case', 'random-trials', 'seed', 'write-filtered', 'out', 'backend'],
  similarity: ['config', 'other', 'test', 'case', 'out', 'backend'],
};

const CASES: readonly EmbeddingCase[] = ['fixed', 'updated'];

/** Parses the arguments after `msif`. */
export function parseArgs(argv: readonly string[]): CliCommand {
  if (argv.some((a) => a === '--help' || a === '-h') || argv[0] === 'help') return { kind: 'help' };
  if (argv.some((a) => a === '--version' || a === '-V')) return { kind: 'version' };
  const [command, ...rest] = argv;
  if (command === undefined) throw usage('missing command', 'trace, train, validate, cleanse or similarity');
  if (!isCommand(command)) throw usage(`unknown command '${command}'`, 'trace, train, validate, cleanse or similarity');
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
      const cache = oneOf(flags, 'cache', ['on', 'off'] as const);
      const options: TraceOptions = {
        test,
        ...(embedding === undefined ? {} : { case: embedding }),
        ...(top === undefined ? {} : { top }),
        ...(cache === 'off' ? { noCache: true } : {}),
      };
      return { kind: 'trace', config, options, ...(out === undefined ? {} : { out }), ...withBackend };
    }
    case 'train':
      return { kind: 'train', config, ...withBackend };
    case 'validate': {
      const sample = integer(flags, 'sample', 1);
      if (sample === undefined) throw usage(`'msif validate' needs --sample`, '--sample N');
      const test = flags.get('test');
      const embedding = oneOf(flags, 'case', CASES);
      const seed = integer(flags, 'seed', 0);
      const objective = oneOf(flags, 'retrain', RETRAIN_OBJECTIVES);
      const gradientTolerance = decimal(flags, 'tolerance', 0, Infinity);
      const maxIterations = integer(flags, 'max-iterations', 1);
      const start = oneOf(flags, 'start', RETRAIN_STARTS);
      const jobs = integer(flags, 'jobs', 1);
      const retrain: Partial<RetrainOptions> = {
        ...(objective === undefined ? {} : { objective }),
        ...(gradientTolerance === undefined ? {} : { gradientTolerance }),
        ...(maxIterations === undefined ? {} : { maxIterations }),
        ...(start === undefined ? {} : { start }),
      };
      const out = flags.get('out');
      const options: ValidateOptions = {
        sample,
        ...(test === undefined ? {} : { test }),
        ...(embedding === undefined ? {} : { case: embedding }),
        ...(seed === undefined ? {} : { seed }),
        ...(Object.keys(retrain).length > 0 ? { retrain } : {}),
      };
      return { kind: 'validate', config, options, ...(out === undefined ? {} : { out }), ...withBackend, ...(jobs === undefined ? {} : { jobs }) };
    }
    case 'cleanse': {
      const percent = decimal(flags, 'percent', 0, 100);
      if (percent === undefined) throw usage(`'msif cleanse' needs --percent`, '--percent P');
      const by = oneOf(flags, 'by', CLEANSE_SCORINGS);
      const heldoutFraction = decimal(flags, 'heldout-fraction', 0, 1);
      if (heldoutFraction !== undefined && by === 'test') throw usage('--heldout-fraction goes with --by heldout', 'no --heldout-fraction with --by test');
      const embedding = oneOf(flags, 'case', CASES);
      const randomTrials = integer(flags, 'random-trials', 0);
      const seed = integer(flags, 'seed', 0);
      const out = flags.get('out');
      const writeFiltered = flags.get('write-filtered');
      const options: CleanseOptions = {
        percent,
        ...(by === undefined ? {} : { by }),
        ...(heldoutFraction === undefined ? {} : { heldoutFraction }),
        ...(embedding === undefined ? {} : { case: embedding }),
        ...(randomTrials === undefined ? {} : { randomTrials }),
        ...(seed === undefined ? {} : { seed }),
      };
      return {
        kind: 'cleanse',
        config,
        options,
        ...(writeFiltered === undefined ? {} : { writeFiltered }),
        ...(out === undefined ? {} : { out }),
        ...withBackend,
      };
    }
    case 'similarity': {
      const other = required(flags, 'other', command);
      const test = flags.get('test');
      const embedding = oneOf(flags, 'case', CASES);
      const out = flags.get('out');
      const options: SimilarityOptions = {
        ...(test === undefined ? {} : { test }),
        ...(embedding === undefined ? {} : { case: embedding }),
      };
      return { kind: 'similarity', config, other, options, ...(out === undefined ? {} : { out }), ...withBackend };
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

/** A number strictly between `min` and `max` (exclusive), e.g. a percentage. */
function decimal(flags: ReadonlyMap<string, string>, name: string, min: number, max: number): number | undefined {
  const value = flags.get(name);
  if (value === undefined) return undefined;
  const n = /^(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= min || n >= max) throw usage(`--${name} is '${value}'`, `a number greater than ${min} and less than ${max}`);
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
    case 'other':
      return 'other/msif.json';
    case 'by':
      return CLEANSE_SCORINGS.join('|');
    case 'write-filtered':
      return 'filtered.jsonl';
    case 'percent':
      return 'P';
    case 'heldout-fraction':
      return 'F';
    case 'retrain':
      return RETRAIN_OBJECTIVES.join('|');
    case 'tolerance':
      return 'G';
    case 'backend':
      return BACKEND_PREFERENCES.join('|');
    default:
      return 'N';
  }
}

function usage(problem: string, expected: string): MsifError {
  return new MsifError('usage', problem, { expected });
}

/**
 * The arguments of a `msif validate` that runs the same check as `command` (its helper
 * processes): every option but `--jobs` and `--out`. parseArgs of the result gives
 * `command` back without those two.
 */
export function validateArgv(command: Extract<CliCommand, { kind: 'validate' }>): string[] {
  const o = command.options;
  const r = o.retrain ?? {};
  const flag = (name: string, v: string | number | undefined): string[] => (v === undefined ? [] : [`--${name}`, String(v)]);
  return [
    'validate',
    ...flag('config', command.config),
    ...flag('sample', o.sample),
    ...flag('test', o.test),
    ...flag('case', o.case),
    ...flag('seed', o.seed),
    ...flag('retrain', r.objective),
    ...flag('start', r.start),
    ...flag('tolerance', r.gradientTolerance),
    ...flag('max-iterations', r.maxIterations),
    ...flag('backend', command.backend),
  ];
}

/** BLAS threads per process when `jobs` processes share `cores` (at least one each). */
export function threadsPerJob(jobs: number, cores: number): number {
  return Math.max(1, Math.floor(cores / jobs));
}
