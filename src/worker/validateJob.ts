/**
 * `msif validate` (the paper's Fig. 2): scores the pretraining set for the selected test
 * points (the method and the identity-Hessian baseline), samples N examples (half of
 * largest |score|, half random), retrains both stages without each of them, and compares
 * the actual change of the summed test loss with the predicted −I/m. Nothing of the
 * workspace is written.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MsifError } from '../common/errors';
import type { InfluenceSettings } from '../common/workspaceConfig';
import { BatchSet } from '../engine/batches';
import { influenceScores } from '../engine/influence/influenceScores';
import { seededRandom } from '../engine/influence/sampling';
import { correlationsBySample, leaveOneOut, noiseFloor, sampleForValidation } from '../engine/validate/leaveOneOut';
import type { CorrelationsBySample, SampleCorrelation } from '../engine/validate/leaveOneOut';
import { LEFT_START_FACTOR, RETRAIN_RULES_VERSION, leftStart } from '../engine/validate/retrainStages';
import type { RetrainRun, StageRun } from '../engine/validate/retrainStages';
import { DEFAULT_RETRAIN_OPTIONS, RETRAIN_OBJECTIVES } from '../protocol/validateReport';
import type { CorrelationSet, RetrainOptions, RetrainRunView, ValidateOptions, ValidateReport, ValidateRow } from '../protocol/validateReport';
import { loadWorkspace, runTrace } from './jobs';
import type { JobContext } from './jobs';
import { PhaseTimer } from './phaseTimer';
import { ihvpCacheDir, ihvpCacheKey } from './ihvpCache';
import { diskRetrainJournal } from './retrainJournal';

/** Shares of the progress bar: the method's scores, the identity baseline, the retraining. */
const TRACE_SHARE = 0.1;
const IDENTITY_SHARE = 0.03;

/** Runs the leave-one-out check on the workspace at `configPath`; see {@link ValidateReport}. */
export async function runValidate(configPath: string, options: ValidateOptions, ctx: JobContext = {}): Promise<ValidateReport> {
  const timer = new PhaseTimer();
  const { phases } = timer;
  const endPhase = (name: string): void => timer.end(name);
  const retrainOptions = checkRetrainOptions({ ...DEFAULT_RETRAIN_OPTIONS, ...definedOnly(options.retrain ?? {}) });
  if (!Number.isInteger(options.sample) || options.sample < 1) {
    throw new MsifError('usage', `the sample size is ${options.sample}`, { field: '--sample', expected: 'an integer ≥ 1' });
  }

  // The method's scores, exactly as `msif trace` computes them.
  const trace = await runTrace(
    configPath,
    { test: options.test ?? 'all', ...(options.case ? { case: options.case } : {}), top: 0, ...(options.overrides ? { overrides: options.overrides } : {}) },
    { ...ctx, onProgress: (p) => ctx.onProgress?.({ ...p, fraction: TRACE_SHARE * (p.fraction ?? 0) }) },
  );
  endPhase('influence');

  const ws = await loadWorkspace(configPath, {});
  try {
    const { config } = ws;
    const m = ws.pretrainTrain.count;
    const kase = trace.case;
    const seed = options.seed ?? config.influence.seed;
    const settings: InfluenceSettings = { ...config.influence, ...trace.settings };
    const testIndices = trace.test.map((t) => t.index);
    const traceWarnings = trace.diagnostics.warnings.map((w) => `influence: ${w}`);
    const warnings: string[] = [];

    const testSet = await BatchSet.load(ws.finetuneModel, ws.finetuneTest, settings.batchSize, testIndices, ctx.signal);
    let finetuneSet: BatchSet | undefined;
    try {
      // The identity-Hessian baseline (paper, Fig. 3): the same scores with every inverse Hessian → I.
      const identity = await influenceScores(
        {
          pretrain: { model: ws.pretrainModel, loss: config.pretrain.loss, train: ws.pretrainTrain },
          finetune: { model: ws.finetuneModel, loss: config.finetune.loss, train: ws.finetuneTrain },
          sharedLayers: config.sharedLayers,
          test: testSet,
          case: kase,
          settings,
        },
        {
          signal: ctx.signal,
          identityHessians: true,
          onProgress: (p) => ctx.onProgress?.({ phase: 'identity', message: `identity-Hessian baseline: ${p.message}`, fraction: TRACE_SHARE + IDENTITY_SHARE * p.fraction }),
        },
      );
      endPhase('identity');

      const sample = sampleForValidation(trace.scores, options.sample, seed);
      // The response objective: anchored at the saved weights (RetrainSettings.anchored).
      const anchored = retrainOptions.objective === 'response';
      const proximal = retrainOptions.objective !== 'plain' ? { pretrain: settings.pretrainDamping, finetune: settings.finetuneDamping } : { pretrain: 0, finetune: 0 };
      // The response objective follows the scores' damping form: the minimiser for (H + λI)⁻¹,
      // the stationary point (½‖∇‖² + proximal) for the squared form (H² + λI)⁻¹H.
      const response = anchored && settings.dampingForm === 'squared' ? 'stationary' : 'minimum';
      if (retrainOptions.objective === 'proximal' && settings.dampingForm === 'squared') {
        warnings.push('The proximal retraining objective matches the plain damping form (H + λI)⁻¹; these scores use the squared form (H² + λI)⁻¹H, which estimates something else (see influence-facts).');
      }
      finetuneSet = await BatchSet.load(ws.finetuneModel, ws.finetuneTrain, settings.batchSize, undefined, ctx.signal);
      const journalRoot = ihvpCacheDir();
      const journalDir = journalRoot === undefined
        ? undefined
        : path.join(journalRoot, `validate-${await ihvpCacheKey({ config, case: kase, settings: { kind: 'validate', influence: settings, retrain: retrainOptions, rules: RETRAIN_RULES_VERSION, proximal, seed }, identityHessians: false, test: testIndices, backend: tf.getBackend() }, ctx.signal)}`);
      let resumedRuns = 0;
      let sharedRuns = 0;
      ctx.log?.(`validate: ${sample.length} examples, ${sample.length + 2} retraining runs of both stages (L-BFGS, ${retrainOptions.objective} objective)`);
      const loo = await leaveOneOut(
        {
          pretrain: { model: ws.pretrainModel, loss: config.pretrain.loss, train: ws.pretrainTrain },
          finetune: { model: ws.finetuneModel, loss: config.finetune.loss, train: finetuneSet },
          sharedLayers: config.sharedLayers,
          test: testSet,
          case: kase,
          alpha: settings.alpha,
          batchSize: settings.batchSize,
        },
        sample,
        { gradientTolerance: retrainOptions.gradientTolerance, maxIterations: retrainOptions.maxIterations, memory: retrainOptions.memory, proximal, anchored, response },
        seed,
        {
          signal: ctx.signal,
          startFromBase: retrainOptions.start === 'base',
          onProgress: (p) => {
            const share = TRACE_SHARE + IDENTITY_SHARE;
            ctx.onProgress?.({
              phase: 'retrain',
              fraction: share + (1 - share) * p.fraction,
              message: `run ${p.run + 1}/${p.runs}, ${p.label}: ${p.stage === 'pretrain' ? 'pretraining' : 'finetuning'} step ${p.iteration}/${p.maxIterations}, ‖∇‖ ${p.gradientNorm.toExponential(2)}`,
              iteration: p.iteration,
              maxIterations: p.maxIterations,
            });
          },
          onRun: (label, run, from) => {
            if (from === 'journal') resumedRuns++;
            if (from === 'shared') sharedRuns++;
            const where = from === 'journal' ? ' (from the journal)' : from === 'shared' ? ' (run by another process)' : '';
            ctx.log?.(`validate: ${label}${where}: test loss ${run.testLoss.toPrecision(8)}, pretraining ${stageText(run.pretrain)}, finetuning ${stageText(run.finetune)}`);
          },
          ...(journalDir ? { journal: diskRetrainJournal(journalDir, { onEvent: (event, detail) => { if (event !== 'hit' && event !== 'stored') ctx.log?.(`validate journal: ${event}: ${detail}`); } }) } : {}),
        },
      );
      endPhase('retrain');

      // ---- the report ----
      const ids = ws.pretrainTrain.ids();
      // Drawn here, in row order: inside the async map below, the draws would follow the order
      // in which the rows' texts arrive, and the baseline would change from run to run.
      const normal = standardNormal(seed + 2);
      const randomPredictions = loo.rows.map(() => normal());
      const rows: ValidateRow[] = await Promise.all(
        loo.rows.map(async (r, k) => {
          const text = (await ws.pretrainTrain.display(r.index)).text;
          const line = ws.pretrainTrain.lineOf(r.index);
          const score = trace.scores[r.index] as number;
          return {
            index: r.index,
            id: ids[r.index] ?? String(r.index),
            ...(line !== undefined ? { line } : {}),
            ...(text !== undefined ? { text } : {}),
            sample: r.sample,
            score,
            predicted: -score / m,
            actual: r.actual,
            identityPredicted: -(identity.scores[r.index] as number) / m,
            randomPredicted: randomPredictions[k] as number,
            retrain: runView(r.run),
          };
        }),
      );
      const kinds = rows.map((r) => r.sample);
      const actual = rows.map((r) => r.actual);
      const correlations = {
        influence: correlationView(correlationsBySample(kinds, rows.map((r) => r.predicted), actual)),
        identity: correlationView(correlationsBySample(kinds, rows.map((r) => r.identityPredicted), actual)),
        random: correlationView(correlationsBySample(kinds, rows.map((r) => r.randomPredicted), actual)),
      };
      const floor = noiseFloor(loo);
      const runs = [loo.base, loo.noise, ...loo.rows.map((r) => r.run)];
      const unconverged = runs.filter((r) => !r.pretrain.converged || !r.finetune.converged);
      // Runs that resolve a small perturbation of a solved objective (anchored: the noise run
      // too). Rises below 10× the gradient tolerance are round-off (seen: ‖∇‖ 2e-8 → 1.2e-6 on
      // the example's noise run, whose curvature pairs are made of round-off).
      const perturbation = [...(anchored ? [loo.noise] : []), ...(anchored || retrainOptions.start === 'base' ? loo.rows.map((r) => r.run) : [])];
      const departed = perturbation.filter((r) => leftStart(r.pretrain, retrainOptions.gradientTolerance) || leftStart(r.finetune, retrainOptions.gradientTolerance));
      warnings.push(...validateWarnings(rows, floor, unconverged, runs.length, retrainOptions));
      if (departed.length > 0) {
        warnings.push(
          `${departed.length} of ${perturbation.length} retraining runs that start at or next to their objective's minimiser left it (‖∇‖ rose more than ${LEFT_START_FACTOR}× above its start and the tolerance): ` +
            `the damped Hessian H + λI is not positive definite at the saved weights, so the response to removing an example is not defined there and these runs measured another minimum. ` +
            'Train closer to a minimum (training.polishSteps) or raise the damping; the influence solves say the same when CG meets negative curvature.',
        );
      }

      for (const w of warnings) ctx.log?.(`warning: ${w}`);
      warnings.unshift(...traceWarnings);
      return {
        version: 1,
        kind: 'validate',
        case: kase,
        test: trace.test,
        pretrainCount: m,
        sample: { requested: options.sample, top: kinds.filter((k) => k === 'top').length, random: kinds.filter((k) => k === 'random').length, seed },
        rows,
        correlations,
        testLoss: { saved: loo.savedTestLoss, base: loo.base.testLoss, noise: loo.noise.testLoss },
        noiseFloor: {
          spread: floor.spread,
          medianAbsActual: { all: finite(floor.medianAbsActual.all), top: finite(floor.medianAbsActual.top), random: finite(floor.medianAbsActual.random) },
          threshold: floor.threshold,
          comparable: floor.comparable,
        },
        settings: { influence: trace.settings, retrain: { ...retrainOptions, optimizer: 'lbfgs', proximal, response } },
        retrain: { base: runView(loo.base), noise: runView(loo.noise) },
        diagnostics: {
          backend: tf.getBackend(),
          seconds: timer.seconds(),
          solves: trace.diagnostics.solves,
          gradientNorms: trace.diagnostics.gradientNorms,
          unconvergedRuns: unconverged.length,
          departedRuns: departed.length,
          journal: journalDir ? { dir: journalDir, resumedRuns, sharedRuns } : null,
          warnings,
          phases,
        },
      };
    } finally {
      testSet.dispose();
      finetuneSet?.dispose();
    }
  } finally {
    ws.dispose();
  }
}

/** The warnings a reader of the correlations needs. */
function validateWarnings(
  rows: readonly ValidateRow[],
  floor: ReturnType<typeof noiseFloor>,
  unconverged: readonly RetrainRun[],
  runCount: number,
  o: RetrainOptions,
): string[] {
  const out: string[] = [];
  if (unconverged.length > 0) {
    const worst = Math.max(...unconverged.flatMap((r) => [r.pretrain.gradientNorm, r.finetune.gradientNorm]));
    out.push(
      `${unconverged.length} of ${runCount} retraining runs stopped before ‖∇‖ ≤ ${o.gradientTolerance.toExponential(0)} (largest final ‖∇‖ ${worst.toExponential(2)}; ` +
        `${o.maxIterations} L-BFGS steps at most): the actual changes include optimizer error.` +
        (o.objective === 'plain' ? ' The plain objective may have no minimiser (separable data); try the response or proximal objective.' : ''),
    );
  }
  if (floor.comparable.top || floor.comparable.random || floor.comparable.all) {
    const parts = (['top', 'random'] as const)
      .filter((k) => Number.isFinite(floor.medianAbsActual[k]))
      .map((k) => `${k === 'top' ? 'top-|score|' : 'random'} half ${floor.medianAbsActual[k].toExponential(2)}${floor.comparable[k] ? ' (comparable)' : ''}`);
    out.push(
      `The retraining noise floor (|ΔL| ${floor.spread.toExponential(2)} between two retrainings that differ only in summation order) is more than ` +
        `${floor.threshold} × the median |actual change| (${parts.join(', ')}): correlations there measure noise as much as influence.`,
    );
  }
  for (const k of ['top', 'random'] as const) {
    const n = rows.filter((r) => r.sample === k).length;
    if (n > 0 && n < 3) out.push(`Only ${n} example${n === 1 ? '' : 's'} in the ${k === 'top' ? 'top-|score|' : 'random'} half: its correlation is undefined or meaningless; use a larger sample N.`);
  }
  return out;
}

function checkRetrainOptions(o: RetrainOptions): RetrainOptions {
  if (!(o.gradientTolerance > 0)) throw new MsifError('usage', `the retraining tolerance is ${o.gradientTolerance}`, { field: '--tolerance', expected: 'a number > 0' });
  if (!Number.isInteger(o.maxIterations) || o.maxIterations < 1) throw new MsifError('usage', `the retraining step limit is ${o.maxIterations}`, { field: '--max-iterations', expected: 'an integer ≥ 1' });
  if (!Number.isInteger(o.memory) || o.memory < 1) throw new MsifError('usage', `the L-BFGS memory is ${o.memory}`, { expected: 'an integer ≥ 1' });
  if (!RETRAIN_OBJECTIVES.includes(o.objective)) throw new MsifError('usage', `the retraining objective is '${String(o.objective)}'`, { field: '--retrain', expected: RETRAIN_OBJECTIVES.join(', ') });
  if (o.start !== 'base' && o.start !== 'saved') throw new MsifError('usage', `the retraining start is '${String(o.start)}'`, { field: '--start', expected: 'base or saved' });
  return o;
}

function stageText(s: StageRun): string {
  return `${s.iterations} steps, ‖∇‖ ${s.initialGradientNorm.toExponential(2)} → ${s.gradientNorm.toExponential(2)} (${s.stop})`;
}

function runView(r: RetrainRun): RetrainRunView {
  return { testLoss: r.testLoss, pretrain: { ...r.pretrain }, finetune: { ...r.finetune } };
}

function correlationView(c: CorrelationsBySample): CorrelationSet {
  const v = (s: SampleCorrelation) => ({ n: s.n, pearson: finite(s.pearson), spearman: finite(s.spearman) });
  return { top: v(c.top), random: v(c.random), all: v(c.all) };
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Seeded standard normal draws (Box–Muller). */
function standardNormal(seed: number): () => number {
  const rand = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** The entries of `o` that are not undefined. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
