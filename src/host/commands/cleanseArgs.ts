/**
 * The arguments of "MSIF: Cleanse pretraining data" and of its helper that writes the
 * filtered dataset, from automation (`executeCommand`) or a panel. Pure: unknown or
 * invalid fields are left out (the command then asks).
 */
import type { EmbeddingCase } from '../../common/workspaceConfig';
import type { CleanseScoring } from '../../protocol/cleanseReport';

export interface CleanseCommandArgs {
  readonly config?: string;
  readonly percent?: number;
  readonly by?: CleanseScoring;
  readonly heldoutFraction?: number;
  readonly case?: EmbeddingCase;
  readonly randomTrials?: number;
  readonly seed?: number;
  readonly rethrow?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const between = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isFinite(v) && v > lo && v < hi;

/** `{config?, percent?, by?, heldoutFraction?, case?, randomTrials?, seed?, rethrow?}`, or a tree node / Uri carrying a config. */
export function parseCleanseArgs(arg: unknown): CleanseCommandArgs {
  if (!isObject(arg)) return {};
  const out: { -readonly [K in keyof CleanseCommandArgs]: CleanseCommandArgs[K] } = {};
  const config = arg['config'] ?? (arg['type'] === 'config' ? arg['configPath'] : undefined) ?? (typeof arg['scheme'] === 'string' ? arg['fsPath'] : undefined);
  if (typeof config === 'string' && config !== '') out.config = config;
  if (between(arg['percent'], 0, 100)) out.percent = arg['percent'];
  if (arg['by'] === 'heldout' || arg['by'] === 'test') out.by = arg['by'];
  if (between(arg['heldoutFraction'], 0, 1)) out.heldoutFraction = arg['heldoutFraction'];
  if (arg['case'] === 'fixed' || arg['case'] === 'updated') out.case = arg['case'];
  if (isCount(arg['randomTrials'])) out.randomTrials = arg['randomTrials'];
  if (isCount(arg['seed'])) out.seed = arg['seed'];
  if (arg['rethrow'] === true) out.rethrow = true;
  return out;
}

export interface WriteFilteredArgs {
  readonly config: string;
  /** Pretraining indices to leave out. */
  readonly exclude: number[];
  /** Where to write; asked with a save dialog when absent. */
  readonly out?: string;
  readonly rethrow?: boolean;
}

/** `{config, exclude: number[], out?, rethrow?}`; undefined when `config` or `exclude` is missing or invalid. */
export function parseWriteFilteredArgs(arg: unknown): WriteFilteredArgs | undefined {
  if (!isObject(arg)) return undefined;
  const { config, exclude, out } = arg;
  if (typeof config !== 'string' || config === '' || !Array.isArray(exclude) || !exclude.every(isCount)) return undefined;
  return {
    config,
    exclude: [...(exclude as number[])],
    ...(typeof out === 'string' && out !== '' ? { out } : {}),
    ...(arg['rethrow'] === true ? { rethrow: true } : {}),
  };
}

/** The percentages the command offers. */
export const PERCENT_CHOICES = [1, 5, 10, 20] as const;

/** Why `text` is not a percentage in (0, 100), or undefined when it is. */
export function percentProblem(text: string): string | undefined {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) return 'Enter a number, e.g. 10';
  if (v <= 0 || v >= 100) return 'Enter a number greater than 0 and less than 100';
  return undefined;
}
