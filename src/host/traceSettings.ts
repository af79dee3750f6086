/**
 * The `msif.*` settings and how they reach the worker: the one place that turns them
 * into request options. Pure: `ctx`/`settings.ts` read VS Code's configuration and hand
 * the raw values in.
 *
 * `msif.backend` and `msif.nodePath` start the worker; `msif.topK` is the report's
 * `top`; the damping and CG overrides go in the trace request's `overrides` field (null
 * or unset: use msif.json).
 */
import type { EmbeddingCase } from '../common/workspaceConfig';
import type { BackendPreference } from '../protocol/engineProtocol';
import { BACKEND_PREFERENCES } from '../protocol/engineProtocol';
import type { InfluenceOverrides, TraceOptions } from '../protocol/jobTypes';

/** The influence settings the user may override from VS Code ({@link InfluenceOverrides}). */
export const OVERRIDE_KEYS = ['pretrainDamping', 'finetuneDamping', 'cgIterations'] as const;

export interface HostSettings {
  readonly backend: BackendPreference;
  /** The Node.js binary for the worker; undefined: VS Code's own (ELECTRON_RUN_AS_NODE). */
  readonly nodePath?: string;
  readonly topK: number;
  readonly overrides: InfluenceOverrides;
}

export const DEFAULT_TOP_K = 10;
export const MAX_TOP_K = 1000;

/**
 * Validated settings from raw configuration values. Invalid values fall back to the
 * defaults (and are named in `problems`); `nodePath` is ignored in an untrusted workspace.
 */
export function parseHostSettings(get: (key: string) => unknown, trusted: boolean): { settings: HostSettings; problems: string[] } {
  const problems: string[] = [];
  const backendRaw = get('backend') ?? 'auto';
  let backend: BackendPreference = 'auto';
  if (typeof backendRaw === 'string' && (BACKEND_PREFERENCES as readonly string[]).includes(backendRaw)) backend = backendRaw as BackendPreference;
  else problems.push(`msif.backend is ${JSON.stringify(backendRaw)}; expected one of ${BACKEND_PREFERENCES.join(', ')}`);

  const nodeRaw = get('nodePath');
  const nodePath = trusted && typeof nodeRaw === 'string' && nodeRaw.trim() !== '' ? nodeRaw.trim() : undefined;

  const topRaw = get('topK') ?? DEFAULT_TOP_K;
  let topK = DEFAULT_TOP_K;
  if (typeof topRaw === 'number' && Number.isInteger(topRaw) && topRaw >= 1 && topRaw <= MAX_TOP_K) topK = topRaw;
  else problems.push(`msif.topK is ${JSON.stringify(topRaw)}; expected an integer from 1 to ${MAX_TOP_K}`);

  const overrides: { -readonly [K in keyof InfluenceOverrides]: number } = {};
  for (const key of OVERRIDE_KEYS) {
    const v = get(key);
    if (v === undefined || v === null) continue;
    const ok = typeof v === 'number' && Number.isFinite(v) && (key === 'cgIterations' ? Number.isInteger(v) && v >= 1 : v >= 0);
    if (ok) overrides[key] = v;
    else problems.push(`msif.${key} is ${JSON.stringify(v)}; expected ${key === 'cgIterations' ? 'an integer ≥ 1' : 'a number ≥ 0'} or null`);
  }
  return { settings: { backend, ...(nodePath !== undefined ? { nodePath } : {}), topK, overrides }, problems };
}

/** What the host asks the worker to trace. */
export interface TraceSelection {
  /** An index (as a string), an id, `all` or `misclassified`. */
  readonly test: string;
  /** Overrides `finetune.embedding` when set. */
  readonly case?: EmbeddingCase;
}

/**
 * The trace request's options. `overrides` is sent only when some setting is set; the
 * worker applies it over msif.json's `influence` block.
 */
export function traceRequestOptions(selection: TraceSelection, settings: HostSettings): TraceOptions {
  const hasOverrides = OVERRIDE_KEYS.some((k) => settings.overrides[k] !== undefined);
  return {
    test: selection.test,
    ...(selection.case ? { case: selection.case } : {}),
    top: settings.topK,
    ...(hasOverrides ? { overrides: { ...settings.overrides } } : {}),
  };
}

/** A test selection that names one test point (an index or an id), not a set. */
export function isSingleSelection(test: string): boolean {
  return test !== 'all' && test !== 'misclassified';
}
