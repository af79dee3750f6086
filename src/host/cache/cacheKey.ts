/**
 * Cache keys for trace results. A result depends on the workspace config's text, the
 * model and dataset files it names, the embedding case, the test selection, the number
 * of listed examples and the influence-setting overrides; the key is a SHA-1 of all of
 * them in a canonical JSON form (object keys sorted, `undefined` fields dropped), so
 * equal inputs give equal keys whatever the order in which they were assembled.
 */
import { createHash } from 'node:crypto';
import type { FileFingerprint } from './fileFingerprint';

export interface TraceKeyInputs {
  /** SHA-1 of the msif.json text. */
  readonly configHash: string;
  /** Fingerprints of the model and dataset files, by absolute path. */
  readonly files: readonly FileFingerprint[];
  /** The resolved embedding case (the config's default filled in). */
  readonly case: string;
  /** The test selection as the worker takes it: an index, an id, `all` or `misclassified`. */
  readonly test: string;
  readonly top: number;
  /** The influence overrides sent with the request (absent fields: none). */
  readonly overrides: Readonly<Record<string, number | undefined>>;
}

/** A stable JSON text: object keys sorted, `undefined` dropped, arrays kept in order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return JSON.stringify(String(value));
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha1(text: string | Uint8Array): string {
  return createHash('sha1').update(text).digest('hex');
}

/** The cache key of a trace: order-insensitive in `files` and in object fields. */
export function traceCacheKey(inputs: TraceKeyInputs): string {
  const files = [...inputs.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sha1(canonicalJson({ ...inputs, files, kind: 'trace/v1' }));
}
