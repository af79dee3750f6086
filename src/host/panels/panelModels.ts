/**
 * Trace reports → the view models the webview panels render (`protocol/webviewProtocol`).
 * Pure.
 */
import type { TestPointSummary, TraceReport } from '../../protocol/report';
import type {
  ComparePanelModel,
  DiagnosticsView,
  ExampleView,
  MisclassifiedPanelModel,
  TracePanelModel,
  TestPointView,
  TraceResultView,
} from '../../protocol/webviewProtocol';
import { logDensityHistogram, spearman, topKOverlap } from '../analysis/scoreStats';
import { formatLabel } from '../data/exampleView';
import { isSingleSelection } from '../traceSettings';

/** Bins of the score histogram. */
export const HISTOGRAM_BINS = 60;

export function isMisclassified(t: Pick<TestPointSummary, 'label' | 'prediction'>): boolean {
  if (typeof t.label === 'number' && typeof t.prediction === 'number') return t.label !== t.prediction;
  return false;
}

export function testPointView(t: TestPointSummary, names: ReadonlyMap<number, string>): TestPointView {
  return {
    index: t.index,
    id: t.id,
    label: formatLabel(t.label, names),
    prediction: formatLabel(t.prediction, names),
    misclassified: isMisclassified(t),
    loss: t.loss,
    ...(t.line !== undefined ? { line: t.line } : {}),
  };
}

export function traceResultView(report: TraceReport): TraceResultView {
  const row = (r: TraceReport['harmful'][number]) => ({
    index: r.index,
    id: r.id,
    score: r.score,
    ...(r.line !== undefined ? { line: r.line } : {}),
    ...(r.text !== undefined ? { text: r.text } : {}),
  });
  return { case: report.case, scores: report.scores, harmful: report.harmful.map(row), helpful: report.helpful.map(row) };
}

export function diagnosticsView(report: TraceReport): DiagnosticsView {
  const d = report.diagnostics;
  const settings: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(report.settings ?? {})) if (typeof v === 'number' || typeof v === 'string') settings[k] = v;
  return {
    backend: d.backend,
    seconds: d.seconds,
    solves: (d.solves ?? []).map((s) => ({ ...s, residuals: [...s.residuals] })),
    warnings: [...(d.warnings ?? [])],
    settings,
    ...(d.hessianSampleCount !== undefined ? { hessianSampleCount: d.hessianSampleCount } : {}),
    ...(d.parameters ? { parameters: { ...d.parameters } } : {}),
    ...(d.gradientNorms ? { gradientNorms: { ...d.gradientNorms } } : {}),
  };
}

/** `MSIF: test-00003` for one test point, `MSIF: 12 test points` for a set. */
export function traceTitle(report: Pick<TraceReport, 'test'>, selection: string): string {
  const only = report.test.length === 1 ? report.test[0] : undefined;
  if (only && isSingleSelection(selection)) return `MSIF: ${only.id}`;
  return `MSIF: ${report.test.length} test point${report.test.length === 1 ? '' : 's'}`;
}

export function tracePanelModel(args: {
  revision: number;
  configPath: string;
  configLabel: string;
  selection: string;
  report: TraceReport;
  names: ReadonlyMap<number, string>;
  examples: ExampleView[];
}): TracePanelModel {
  const { report } = args;
  return {
    kind: 'trace',
    revision: args.revision,
    title: traceTitle(report, args.selection),
    configPath: args.configPath,
    configLabel: args.configLabel,
    selection: args.selection,
    testPoints: report.test.map((t) => testPointView(t, args.names)),
    pretrainCount: report.pretrainCount,
    result: traceResultView(report),
    histogram: logDensityHistogram(report.scores, HISTOGRAM_BINS),
    diagnostics: diagnosticsView(report),
    examples: args.examples,
  };
}

export const COMPARE_TITLE = 'MSIF: Case 1 vs Case 2';
export const MISCLASSIFIED_TITLE = 'MSIF: Misclassified test points';

export function comparePanelModel(args: {
  revision: number;
  configPath: string;
  configLabel: string;
  selection: string;
  fixed: TraceReport;
  updated: TraceReport;
  topK: number;
  names: ReadonlyMap<number, string>;
  examples: ExampleView[];
}): ComparePanelModel {
  const { fixed, updated } = args;
  if (fixed.scores.length !== updated.scores.length) {
    throw new Error(`the two cases scored different pretraining sets (${fixed.scores.length} and ${updated.scores.length} examples)`);
  }
  return {
    kind: 'compare',
    revision: args.revision,
    title: COMPARE_TITLE,
    configPath: args.configPath,
    configLabel: args.configLabel,
    selection: args.selection,
    testPoints: fixed.test.map((t) => testPointView(t, args.names)),
    pretrainCount: fixed.pretrainCount,
    case1: traceResultView(fixed),
    case2: traceResultView(updated),
    spearman: spearman(fixed.scores, updated.scores),
    topK: args.topK,
    overlap: topKOverlap(fixed.scores, updated.scores, args.topK),
    examples: args.examples,
  };
}

export function misclassifiedPanelModel(args: {
  revision: number;
  configPath: string;
  configLabel: string;
  points: readonly TestPointSummary[];
  testCount?: number;
  names: ReadonlyMap<number, string>;
  examples: ExampleView[];
}): MisclassifiedPanelModel {
  return {
    kind: 'misclassified',
    revision: args.revision,
    title: MISCLASSIFIED_TITLE,
    configPath: args.configPath,
    configLabel: args.configLabel,
    testPoints: args.points.filter(isMisclassified).map((t) => testPointView(t, args.names)),
    ...(args.testCount !== undefined ? { testCount: args.testCount } : {}),
    examples: args.examples,
  };
}
