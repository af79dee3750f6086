/** A small trace report for the host's unit tests. */
import type { TestPointSummary, TraceReport } from '../../../src/protocol/report';
import { topIndices } from '../../../src/host/analysis/scoreStats';

export function fakeReport(scores: number[], test: TestPointSummary[], kase: 'fixed' | 'updated' = 'fixed', top = 3): TraceReport {
  const ranked = (i: number) => ({ index: i, id: `pre-${i}`, score: scores[i] as number, line: i + 1 });
  return {
    version: 1,
    case: kase,
    test,
    pretrainCount: scores.length,
    scores,
    harmful: topIndices(scores, top, 'harmful').map(ranked),
    helpful: topIndices(scores, top, 'helpful').map(ranked),
    settings: {
      pretrainDamping: 0.01,
      finetuneDamping: 1e-8,
      cgIterations: 100,
      cgTolerance: 1e-5,
      hessianSamples: 1000,
      alpha: 0.01,
      seed: 0,
      dampingForm: 'plain',
      solver: 'cg',
    },
    diagnostics: {
      backend: 'cpu',
      seconds: 1.5,
      cgResidual: [1, 0.1, 0.01],
      solves: [
        {
          system: 'pretrain',
          solver: 'cg',
          dampingForm: 'plain',
          damping: 0.01,
          dimension: 10,
          iterations: 3,
          residuals: [1, 0.1, 0.01],
          relativeResidual: 0.01,
          converged: false,
          negativeCurvatureAt: null,
        },
      ],
      hessianSampleCount: scores.length,
      parameters: { W: 4, U: 3, Theta: 3 },
      gradientNorms: { pretrain: 0.1, finetune: 0.2 },
      warnings: ['not converged'],
      phases: [],
    },
  };
}

export function point(index: number, label: number, prediction: number): TestPointSummary {
  return { index, id: `test-${index}`, label, prediction, loss: 0.5 + index, line: index + 1 };
}
