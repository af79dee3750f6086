/** A leave-one-out report → the validate panel's view model (`protocol/webviewProtocol`). Pure. */
import type { ValidateReport } from '../../protocol/validateReport';
import type { ExampleView, ValidatePanelModel } from '../../protocol/webviewProtocol';
import { testPointView } from './panelModels';

export const VALIDATE_TITLE = 'MSIF: Leave-one-out check';

export function validatePanelModel(args: {
  revision: number;
  configPath: string;
  configLabel: string;
  selection: string;
  report: ValidateReport;
  names: ReadonlyMap<number, string>;
  examples: ExampleView[];
}): ValidatePanelModel {
  const r = args.report;
  return {
    kind: 'validate',
    revision: args.revision,
    title: VALIDATE_TITLE,
    configPath: args.configPath,
    configLabel: args.configLabel,
    selection: args.selection,
    case: r.case,
    testPoints: r.test.map((t) => testPointView(t, args.names)),
    pretrainCount: r.pretrainCount,
    seed: r.sample.seed,
    rows: r.rows.map((x) => ({
      index: x.index,
      id: x.id,
      ...(x.line !== undefined ? { line: x.line } : {}),
      ...(x.text !== undefined ? { text: x.text } : {}),
      sample: x.sample,
      score: x.score,
      predicted: x.predicted,
      actual: x.actual,
      identityPredicted: x.identityPredicted,
      converged: x.retrain.pretrain.converged && x.retrain.finetune.converged,
    })),
    correlations: r.correlations,
    noiseFloor: r.noiseFloor,
    testLoss: r.testLoss,
    retrain: {
      objective: r.settings.retrain.objective,
      ...(r.settings.retrain.response ? { response: r.settings.retrain.response } : {}),
      gradientTolerance: r.settings.retrain.gradientTolerance,
      maxIterations: r.settings.retrain.maxIterations,
      proximal: r.settings.retrain.proximal,
      runs: r.rows.length + 2,
      unconvergedRuns: r.diagnostics.unconvergedRuns,
    },
    warnings: [...r.diagnostics.warnings],
    backend: r.diagnostics.backend,
    seconds: r.diagnostics.seconds,
    examples: args.examples,
  };
}
