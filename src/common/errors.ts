/**
 * Errors that reach the user. Every one names where the problem is (file, line, field)
 * and what was expected, so that a one-line message is enough to fix the input.
 */

export interface ErrorLocation {
  /** The file the problem is in, as the user named it (absolute or workspace-relative). */
  readonly file?: string;
  /** 1-based line number inside `file`. */
  readonly line?: number;
  /** The field (JSON path such as `finetune.loss` or `x[2]`) that is wrong. */
  readonly field?: string;
  /** What was expected there, in words. */
  readonly expected?: string;
}

export type MsifErrorCode =
  | 'config'
  | 'dataset'
  | 'model'
  | 'usage'
  | 'numeric'
  | 'cancelled'
  | 'internal';

/** An error with a machine-readable code and a location; `message` is one line. */
export class MsifError extends Error {
  readonly code: MsifErrorCode;
  readonly location: ErrorLocation;

  constructor(code: MsifErrorCode, problem: string, location: ErrorLocation = {}) {
    super(formatMessage(problem, location));
    this.name = 'MsifError';
    this.code = code;
    this.location = location;
  }
}

/** Thrown when an AbortSignal stops a long computation; not a failure. */
export class CancelledError extends MsifError {
  constructor(what = 'operation') {
    super('cancelled', `${what} was cancelled`);
    this.name = 'CancelledError';
  }
}

export function isCancelled(e: unknown): e is CancelledError {
  return e instanceof MsifError && e.code === 'cancelled';
}

function formatMessage(problem: string, loc: ErrorLocation): string {
  let where = '';
  if (loc.file !== undefined) where += loc.file;
  if (loc.line !== undefined) where += `:${loc.line}`;
  const parts: string[] = [];
  if (where) parts.push(where);
  if (loc.field !== undefined) parts.push(`field '${loc.field}'`);
  const head = parts.length ? `${parts.join(', ')}: ` : '';
  const tail = loc.expected !== undefined ? ` (expected ${loc.expected})` : '';
  return `${head}${problem}${tail}`;
}
