/** The arguments of "MSIF: Compare task similarity" from automation. Pure. */
import type { EmbeddingCase } from '../../common/workspaceConfig';

export interface SimilarityCommandArgs {
  /** Workspace A's msif.json. */
  readonly config?: string;
  /** Workspace B's msif.json. */
  readonly other?: string;
  readonly test?: string;
  readonly case?: EmbeddingCase;
  readonly rethrow?: boolean;
}

/** `{config?, other?, test?, case?, rethrow?}`; invalid fields are left out. */
export function parseSimilarityArgs(arg: unknown): SimilarityCommandArgs {
  if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) return {};
  const o = arg as Record<string, unknown>;
  const out: { -readonly [K in keyof SimilarityCommandArgs]: SimilarityCommandArgs[K] } = {};
  if (typeof o['config'] === 'string' && o['config'] !== '') out.config = o['config'];
  if (typeof o['other'] === 'string' && o['other'] !== '') out.other = o['other'];
  if (typeof o['test'] === 'string' && o['test'] !== '') out.test = o['test'];
  else if (typeof o['test'] === 'number' && Number.isInteger(o['test']) && o['test'] >= 0) out.test = String(o['test']);
  if (o['case'] === 'fixed' || o['case'] === 'updated') out.case = o['case'];
  if (o['rethrow'] === true) out.rethrow = true;
  return out;
}
