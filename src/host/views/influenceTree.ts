/**
 * The "Influential examples" tree as plain data: config → test points (misclassified
 * first, with true label and prediction) and set traces → "Harmful" / "Helpful" →
 * pretraining examples with scores. Pure: the provider turns nodes into TreeItems.
 */
import type { RankedExample, TestPointSummary } from '../../protocol/report';
import { isMisclassified } from '../panels/panelModels';
import type { TraceEntry, TraceStore } from '../traceStore';

export type TreeNode =
  | { readonly type: 'config'; readonly configPath: string; readonly label: string; readonly error?: string }
  | { readonly type: 'message'; readonly id: string; readonly label: string; readonly detail?: string }
  | { readonly type: 'action'; readonly id: string; readonly label: string; readonly command: string; readonly args: Record<string, string> }
  | { readonly type: 'testPoint'; readonly configPath: string; readonly point: TestPointSummary; readonly trace?: TraceEntry }
  | { readonly type: 'set'; readonly configPath: string; readonly trace: TraceEntry }
  | { readonly type: 'group'; readonly configPath: string; readonly trace: TraceEntry; readonly which: 'harmful' | 'helpful' }
  | { readonly type: 'example'; readonly configPath: string; readonly trace: TraceEntry; readonly which: 'harmful' | 'helpful'; readonly example: RankedExample; readonly rank: number };

/** A stable id for a node (tree item ids keep expansion state across refreshes). */
export function nodeId(node: TreeNode): string {
  switch (node.type) {
    case 'config':
      return `config:${node.configPath}`;
    case 'message':
    case 'action':
      return node.id;
    case 'testPoint':
      return `test:${node.configPath}:${node.point.index}`;
    case 'set':
      return `set:${node.configPath}:${node.trace.selection}:${node.trace.case}`;
    case 'group':
      return `group:${node.configPath}:${node.trace.selection}:${node.trace.case}:${node.which}`;
    case 'example':
      return `example:${node.configPath}:${node.trace.selection}:${node.trace.case}:${node.which}:${node.example.index}`;
  }
}

/** Test points listed under a config (misclassified ones first); the rest are counted. */
export const MAX_TREE_TEST_POINTS = 500;

export interface ConfigInfo {
  readonly path: string;
  readonly label: string;
  readonly error?: string;
}

/** The children of `node` (the roots for undefined). */
export function treeChildren(node: TreeNode | undefined, configs: readonly ConfigInfo[], store: TraceStore, commands: { trace: string; showMisclassified: string }): TreeNode[] {
  if (!node) {
    return configs.map((c) => ({ type: 'config', configPath: c.path, label: c.label, ...(c.error !== undefined ? { error: c.error } : {}) }));
  }
  switch (node.type) {
    case 'config': {
      if (node.error !== undefined) return [{ type: 'message', id: `error:${node.configPath}`, label: 'Invalid msif.json', detail: node.error }];
      const out: TreeNode[] = [];
      for (const trace of store.traces(node.configPath)) {
        if (trace.selection === 'all' || trace.selection === 'misclassified') out.push({ type: 'set', configPath: node.configPath, trace });
      }
      const points = store.testPoints(node.configPath);
      for (const point of points.slice(0, MAX_TREE_TEST_POINTS)) {
        const trace = store.findForTestPoint(node.configPath, point);
        out.push({ type: 'testPoint', configPath: node.configPath, point, ...(trace ? { trace } : {}) });
      }
      if (points.length > MAX_TREE_TEST_POINTS) {
        out.push({
          type: 'message',
          id: `more:${node.configPath}`,
          label: `${points.length - MAX_TREE_TEST_POINTS} more test points`,
          detail: 'run "MSIF: Trace to pretraining data" to pick any test point',
        });
      }
      if (store.misclassified(node.configPath) === undefined) {
        out.push({
          type: 'action',
          id: `find:${node.configPath}`,
          label: 'Find misclassified test points…',
          command: commands.showMisclassified,
          args: { config: node.configPath },
        });
      }
      return out;
    }
    case 'testPoint':
      if (!node.trace) {
        return [
          {
            type: 'action',
            id: `trace:${node.configPath}:${node.point.index}`,
            label: 'Trace to pretraining data',
            command: commands.trace,
            args: { config: node.configPath, test: String(node.point.index) },
          },
        ];
      }
      return groups(node.configPath, node.trace);
    case 'set':
      return groups(node.configPath, node.trace);
    case 'group': {
      const list = node.which === 'harmful' ? node.trace.report.harmful : node.trace.report.helpful;
      return list.map((example, k) => ({ type: 'example', configPath: node.configPath, trace: node.trace, which: node.which, example, rank: k + 1 }));
    }
    default:
      return [];
  }
}

function groups(configPath: string, trace: TraceEntry): TreeNode[] {
  return [
    { type: 'group', configPath, trace, which: 'harmful' },
    { type: 'group', configPath, trace, which: 'helpful' },
  ];
}

/** `true 4 · Coat → predicted 6 · Shirt`. */
export function testPointDescription(point: TestPointSummary, formatLabel: (v: TestPointSummary['label']) => string): string {
  const mark = isMisclassified(point) ? '✗ ' : '';
  return `${mark}true ${formatLabel(point.label)} → predicted ${formatLabel(point.prediction)}`;
}

/** `Misclassified test points (12, Case 1)`. */
export function setLabel(trace: TraceEntry): string {
  const n = trace.report.test.length;
  const what = trace.selection === 'all' ? 'All test points' : 'Misclassified test points';
  return `${what} (${n}, ${caseName(trace.case)})`;
}

export function caseName(kase: string): string {
  return kase === 'fixed' ? 'Case 1' : kase === 'updated' ? 'Case 2' : kase;
}
