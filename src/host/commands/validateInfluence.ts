/**
 * "MSIF: Validate influence (leave-one-out)": retrains both stages without N sampled
 * pretraining examples (half of largest |score|, half random) in the worker, under a
 * cancellable progress notification, and shows the paper's Fig. 2 in a panel: predicted
 * (−I/m) against actual changes of the test loss, Pearson's r per half, the baselines,
 * the noise floor. Results are cached like traces.
 * Automation: `executeCommand('msif.validateInfluence', {config, test, case?, sample,
 * seed?, retrain?: {objective?, gradientTolerance?, maxIterations?}, rethrow?})` resolves
 * to the report (undefined when cancelled or failed); `retrain` overrides the settings
 * `msif.validateMaxIterations` and `msif.validateRetrainObjective`.
 */
import * as vscode from 'vscode';
import type { RetrainOptions, ValidateReport } from '../../protocol/validateReport';
import { RETRAIN_OBJECTIVES } from '../../protocol/validateReport';
import { parseCommandArgs } from '../commandArgs';
import type { Ctx } from '../ctx';
import { pickTestSelection } from '../pickers';
import { CANCELLED } from '../progress/withJobProgress';
import { ValidateService } from '../validateService';
import { caseName } from '../views/influenceTree';

/** The sample size offered in the input box. */
export const DEFAULT_SAMPLE = 20;

const TITLE = 'MSIF: Validate influence (leave-one-out)';

/** The command's own automation arguments (besides config, test, case, rethrow). */
export function parseValidateArgs(arg: unknown): { sample?: number; seed?: number; retrain?: Partial<RetrainOptions> } {
  if (arg === null || typeof arg !== 'object') return {};
  const o = arg as Record<string, unknown>;
  const int = (v: unknown, min: number): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined);
  const out: { sample?: number; seed?: number; retrain?: Partial<RetrainOptions> } = {};
  const sample = int(o['sample'], 1);
  if (sample !== undefined) out.sample = sample;
  const seed = int(o['seed'], 0);
  if (seed !== undefined) out.seed = seed;
  const r = o['retrain'];
  if (r !== null && typeof r === 'object') {
    const ro = r as Record<string, unknown>;
    const retrain: { -readonly [K in keyof RetrainOptions]?: RetrainOptions[K] } = {};
    const objective = RETRAIN_OBJECTIVES.find((x) => x === ro['objective']);
    if (objective) retrain.objective = objective;
    if (typeof ro['gradientTolerance'] === 'number' && ro['gradientTolerance'] > 0) retrain.gradientTolerance = ro['gradientTolerance'];
    const steps = int(ro['maxIterations'], 1);
    if (steps !== undefined) retrain.maxIterations = steps;
    if (Object.keys(retrain).length > 0) out.retrain = retrain;
  }
  return out;
}

/** The retraining options from the settings `msif.validateMaxIterations` and `msif.validateRetrainObjective`. */
function retrainSettings(): Partial<RetrainOptions> {
  const c = vscode.workspace.getConfiguration('msif');
  const steps = c.get<unknown>('validateMaxIterations');
  const objective = RETRAIN_OBJECTIVES.find((o) => o === c.get<unknown>('validateRetrainObjective'));
  return {
    ...(typeof steps === 'number' && Number.isInteger(steps) && steps >= 1 ? { maxIterations: steps } : {}),
    ...(objective ? { objective } : {}),
  };
}

/** Asks for N; undefined when dismissed. */
async function askSampleSize(): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: TITLE,
    prompt: 'How many pretraining examples to retrain without? Half are those of largest |score|, half random. Each one costs a retraining of both stages.',
    value: String(DEFAULT_SAMPLE),
    ignoreFocusOut: true,
    validateInput: (v) => (/^\s*\d+\s*$/.test(v) && Number(v) >= 1 ? undefined : 'A whole number ≥ 1 (≥ 6 gives each half at least 3 examples).'),
  });
  return text === undefined ? undefined : Number(text.trim());
}

export function validateInfluence(ctx: Ctx) {
  const service = new ValidateService(ctx.engine, ctx.traces, ctx.log);
  return async (arg?: unknown): Promise<ValidateReport | undefined> => {
    const args = parseCommandArgs(arg);
    const extra = parseValidateArgs(arg);
    try {
      const entry = await ctx.pickConfig(args.config);
      if (!entry) return undefined;
      const test = args.test ?? (await pickTestSelection(entry, ctx.traces, ctx.examples, TITLE));
      if (test === undefined) return undefined;
      const sample = extra.sample ?? (await askSampleSize());
      if (sample === undefined) return undefined;
      const kase = args.case ?? entry.config.finetune.embedding;
      const retrain = { ...retrainSettings(), ...(extra.retrain ?? {}) };
      const result = await service.validate(
        entry,
        { test, case: kase, sample, retrain, ...(extra.seed !== undefined ? { seed: extra.seed } : {}) },
        `MSIF: Leave-one-out check, ${sample} example${sample === 1 ? '' : 's'}, test ${test} (${caseName(kase)})`,
      );
      if (result === CANCELLED) return undefined;
      await ctx.panels.showValidate(entry, test, result.report);
      return result.report;
    } catch (e) {
      ctx.showError(e, 'Validate influence');
      if (args.rethrow) throw e;
      return undefined;
    }
  };
}
