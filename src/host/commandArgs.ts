/**
 * The arguments the MSIF commands accept, from every place that runs them: the palette
 * (none), CodeLens and automation (`{config, test, case}`), the explorer or editor
 * (a Uri), the tree (a node). Pure.
 */
import type { EmbeddingCase } from '../common/workspaceConfig';

export interface CommandArgs {
  /** The msif.json (absolute, or relative to the first workspace folder). */
  readonly config?: string;
  /** An index (as a string), an id, `all` or `misclassified`. */
  readonly test?: string;
  readonly case?: EmbeddingCase;
  /** A file the command was run on (explorer/editor context). */
  readonly file?: string;
  /** Automation: rethrow failures instead of only showing them. */
  readonly rethrow?: boolean;
}

/** Reads the first argument of a command; unknown shapes give `{}`. */
export function parseCommandArgs(arg: unknown): CommandArgs {
  if (arg === null || typeof arg !== 'object') return {};
  const o = arg as Record<string, unknown>;
  // A vscode.Uri (explorer or editor context menu).
  if (typeof o['scheme'] === 'string' && typeof o['fsPath'] === 'string') return { file: o['fsPath'] };
  // A tree node of the "Influential examples" view.
  if (o['type'] === 'testPoint' && typeof o['configPath'] === 'string') {
    const point = o['point'] as { index?: unknown } | undefined;
    return { config: o['configPath'], ...(typeof point?.index === 'number' ? { test: String(point.index) } : {}) };
  }
  if (o['type'] === 'config' && typeof o['configPath'] === 'string') return { config: o['configPath'] };
  const out: { -readonly [K in keyof CommandArgs]: CommandArgs[K] } = {};
  if (typeof o['config'] === 'string' && o['config'] !== '') out.config = o['config'];
  if (typeof o['test'] === 'string' && o['test'] !== '') out.test = o['test'];
  else if (typeof o['test'] === 'number' && Number.isInteger(o['test']) && o['test'] >= 0) out.test = String(o['test']);
  if (o['case'] === 'fixed' || o['case'] === 'updated') out.case = o['case'];
  if (o['rethrow'] === true) out.rethrow = true;
  return out;
}
