/**
 * One record of a JSON Lines dataset (contract §3): parsing and validation. Pure: takes a
 * line's text and its location (for messages) and returns the record with `x` and `y`
 * already flattened, or throws an {@link MsifError} that names the file, the 1-based line
 * and the field.
 */
import { MsifError } from './errors';

/** Where a line is, for error messages. */
export interface JsonlLocation {
  /** The dataset file, as the user named it. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
}

/** A number or a (rectangular) nested array of numbers, as written in the file. */
export type NestedNumbers = number | readonly NestedNumbers[];

/** A nested array of numbers flattened row-major, with its shape (`[]` for a scalar). */
export interface FlatNumbers {
  readonly data: number[];
  readonly shape: number[];
}

/** One parsed and checked record. */
export interface JsonlRecord {
  /** The input, as written. */
  readonly x: NestedNumbers;
  /** The label, as written. */
  readonly y: NestedNumbers;
  /** `x` flattened row-major. */
  readonly flatX: FlatNumbers;
  /** `y` flattened row-major. */
  readonly flatY: FlatNumbers;
  /** The record's `id` (numbers are turned into strings); absent when not given. */
  readonly id?: string;
  /** Optional caption, for display. */
  readonly text?: string;
  /** Optional path of a PNG, relative to the dataset file, for display. */
  readonly image?: string;
}

const NESTED = 'a number or a nested array of numbers';

/**
 * Parses one non-blank line of a JSON Lines dataset: a JSON object with a numeric `x` and
 * `y` and optional string `id`, `text` and `image`. Other fields are ignored.
 *
 * @throws MsifError (`dataset`) for invalid JSON (saying so when the line holds a bare
 *   `NaN` or `Infinity`, which Python's `json.dumps` writes by default), a line that is not
 *   an object, a missing `x` or `y`, and anything {@link flattenNumeric} rejects.
 */
export function parseJsonlRecord(lineText: string, loc: JsonlLocation): JsonlRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(lineText);
  } catch (e) {
    if (hasBareNonFinite(lineText)) {
      throw new MsifError('dataset', 'NaN and Infinity are not allowed in JSON', {
        ...loc,
        expected: 'finite numbers (in Python, check the data and use json.dumps(..., allow_nan=False))',
      });
    }
    throw new MsifError('dataset', `not valid JSON: ${(e as Error).message}`, {
      ...loc,
      expected: 'one JSON object per line',
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MsifError('dataset', `the line is ${describe(raw)}`, { ...loc, expected: 'a JSON object with "x" and "y"' });
  }
  const obj = raw as Record<string, unknown>;
  for (const key of ['x', 'y'] as const) {
    if (obj[key] === undefined) throw new MsifError('dataset', 'is missing', { ...loc, field: key, expected: NESTED });
  }
  const flatX = flattenNumeric(obj['x'], 'x', loc);
  const flatY = flattenNumeric(obj['y'], 'y', loc);
  const id = optionalString(obj, 'id', loc, true);
  const text = optionalString(obj, 'text', loc, false);
  const image = optionalString(obj, 'image', loc, false);
  return {
    x: obj['x'] as NestedNumbers,
    y: obj['y'] as NestedNumbers,
    flatX,
    flatY,
    ...(id !== undefined ? { id } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(image !== undefined ? { image } : {}),
  };
}

/**
 * Flattens a number or a nested array of numbers row-major. The shape is read along the
 * first elements (`x`, `x[0]`, `x[0][0]`, …) and every other array must agree with it.
 *
 * @param field the JSON path of `value` (`x`), used to name the offending element (`x[3][1]`).
 * @throws MsifError (`dataset`) for a non-numeric element, a number outside float32 range
 *   (JSON has no NaN or Infinity, but `1e999` parses as Infinity), or ragged nesting.
 */
export function flattenNumeric(value: unknown, field: string, loc: JsonlLocation): FlatNumbers {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const data: number[] = [];
  if (flattenInto(value, 0, shape, data)) return { data, shape };
  throw flattenError(value, shape, field, loc);
}

/** True for a number that stays finite as a float32. */
function isFiniteFloat32(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(Math.fround(v));
}

/**
 * Appends `v` to `out` if it is a rectangular array of `shape[depth..]` finite float32
 * numbers (or, for `shape = []`, such a number). The hot path of {@link flattenNumeric}:
 * no error bookkeeping, and the innermost arrays are read in a loop, not by recursion.
 */
function flattenInto(v: unknown, depth: number, shape: readonly number[], out: number[]): boolean {
  if (shape.length === 0) {
    if (!isFiniteFloat32(v)) return false;
    out.push(v);
    return true;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) return false;
  if (depth === shape.length - 1) {
    for (const e of v) {
      if (!isFiniteFloat32(e)) return false;
      out.push(e);
    }
    return true;
  }
  for (const e of v) {
    if (!flattenInto(e, depth + 1, shape, out)) return false;
  }
  return true;
}

/** The error for the first element of `value` that {@link flattenInto} rejects. */
function flattenError(value: unknown, shape: readonly number[], field: string, loc: JsonlLocation): MsifError {
  const path: number[] = [];
  const fail = (problem: string, expected: string): MsifError =>
    new MsifError('dataset', problem, { ...loc, field: field + path.map((i) => `[${i}]`).join(''), expected });
  const rectangular = `a rectangular array of shape ${shapeText(shape)}`;
  const find = (v: unknown, depth: number): MsifError | undefined => {
    const length = shape[depth];
    if (length === undefined) {
      if (typeof v === 'number') return isFiniteFloat32(v) ? undefined : fail(`is ${v}`, 'a finite number within float32 range');
      if (Array.isArray(v)) return fail('is an array where a number was expected (ragged nesting)', rectangular);
      return fail(`is ${describe(v)}`, depth === 0 ? NESTED : 'a finite number');
    }
    if (!Array.isArray(v)) {
      const problem = typeof v === 'number' ? 'is a number where an array was expected (ragged nesting)' : `is ${describe(v)}`;
      return fail(problem, `an array of length ${length} (${rectangular})`);
    }
    if (v.length !== length) {
      return fail(`has length ${v.length} but its first sibling has length ${length} (ragged nesting)`, rectangular);
    }
    for (let i = 0; i < length; i++) {
      path.push(i);
      const e = find(v[i], depth + 1);
      if (e) return e;
      path.pop();
    }
    return undefined;
  };
  const error = find(value, 0);
  if (!error) throw new Error('flattenError called on a valid value');
  return error;
}

/** Formats a shape the way messages show it: `[28, 28, 1]`. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function optionalString(obj: Record<string, unknown>, key: string, loc: JsonlLocation, allowNumber: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined || typeof v === 'string') return v;
  if (allowNumber && typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new MsifError('dataset', `is ${describe(v)}`, { ...loc, field: key, expected: 'a string' });
}

/** True when `text`, outside string literals, holds a `NaN` or `Infinity` token. */
function hasBareNonFinite(text: string): boolean {
  return /\b(?:NaN|Infinity)\b/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '""'));
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
