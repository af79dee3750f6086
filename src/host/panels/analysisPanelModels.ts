/**
 * Cleanse and similarity reports → the view models their panels render
 * (`protocol/webviewProtocol`). Pure.
 */
import type { CleanseArm, CleanseReport } from '../../protocol/cleanseReport';
import type { SimilarityReport, SimilaritySide } from '../../protocol/similarityReport';
import type { CleanseArmView, CleansePanelModel, ExampleView, SimilarityPanelModel, SimilaritySideView } from '../../protocol/webviewProtocol';
import { logDensityHistogram } from '../analysis/scoreStats';
import { HISTOGRAM_BINS } from './panelModels';

/** `MSIF: cleanse 10% (held-out)`. */
export function cleanseTitle(r: Pick<CleanseReport, 'percent' | 'by'>): string {
  return `MSIF: Cleanse ${r.percent}% (${r.by === 'heldout' ? 'held-out' : 'test'})`;
}

export const SIMILARITY_TITLE = 'MSIF: Task similarity';

function armView(a: CleanseArm, label: string): CleanseArmView {
  return {
    kind: a.kind,
    label,
    removedCount: a.removed.length,
    testLoss: a.test.loss,
    testAccuracy: a.test.accuracy,
    lossChange: a.change.loss,
    accuracyChange: a.change.accuracy,
    ...(a.heldout ? { heldoutLoss: a.heldout.loss } : {}),
    scoringLossChange: a.scoringLossChange,
    predictedScoringLossChange: a.predictedScoringLossChange,
    gradientNorms: { pretrain: a.training.pretrain.gradientNorm, finetune: a.training.finetune.gradientNorm },
  };
}

export function cleansePanelModel(args: { revision: number; configPath: string; configLabel: string; report: CleanseReport; examples: ExampleView[] }): CleansePanelModel {
  const r = args.report;
  const arms = [
    armView(r.arms.baseline, 'Baseline (nothing removed)'),
    armView(r.arms.cleansed, `Cleansed (top ${r.removedCount} harmful removed)`),
    ...r.arms.random.map((a, t) => armView(a, `Random ${t + 1} (${a.removed.length} removed)`)),
  ];
  return {
    kind: 'cleanse',
    revision: args.revision,
    title: cleanseTitle(r),
    configPath: args.configPath,
    configLabel: args.configLabel,
    case: r.case,
    by: r.by,
    percent: r.percent,
    pretrainCount: r.pretrainCount,
    requestedCount: r.requestedCount,
    removedCount: r.removedCount,
    scoringCount: r.scoring.count,
    finetuneTrainCount: r.finetuneTrainCount,
    ...(r.settings.heldoutFraction !== undefined ? { heldoutFraction: r.settings.heldoutFraction } : {}),
    arms,
    randomSummary: {
      lossChange: r.randomSummary.lossChange ? { ...r.randomSummary.lossChange } : null,
      accuracyChange: r.randomSummary.accuracyChange ? { ...r.randomSummary.accuracyChange } : null,
    },
    summary: r.summary,
    warnings: [...r.diagnostics.warnings],
    removed: r.removed.map((e) => ({
      index: e.index,
      id: e.id,
      score: e.score,
      ...(e.line !== undefined ? { line: e.line } : {}),
      ...(e.text !== undefined ? { text: e.text } : {}),
    })),
    histogram: logDensityHistogram(r.scoring.scores, HISTOGRAM_BINS),
    backend: r.diagnostics.backend,
    seconds: r.diagnostics.seconds,
    examples: args.examples,
  };
}

function sideView(name: string, s: SimilaritySide, label: string): SimilaritySideView {
  return {
    name,
    configPath: s.config,
    configLabel: label,
    case: s.case,
    test: s.test,
    testCount: s.testCount,
    pretrainCount: s.pretrainCount,
    finetuneTrainCount: s.finetuneTrainCount,
    stats: { ...s.perTestPoint, quantiles: s.perTestPoint.quantiles.map((q) => ({ ...q })) },
    histogram: s.histogram,
    magnitudeHistogram: s.magnitudeHistogram,
    converged: s.converged,
    warnings: [...s.warnings],
  };
}

export function similarityPanelModel(args: { revision: number; labelA: string; labelB: string; report: SimilarityReport }): SimilarityPanelModel {
  const r = args.report;
  return {
    kind: 'similarity',
    revision: args.revision,
    title: SIMILARITY_TITLE,
    configPath: r.a.config,
    configLabel: args.labelA,
    otherConfigPath: r.b.config,
    a: sideView('A', r.a, args.labelA),
    b: sideView('B', r.b, args.labelB),
    ratio: { ...r.ratio },
    reading: [...r.reading],
    seconds: r.diagnostics.seconds,
    examples: [],
  };
}
