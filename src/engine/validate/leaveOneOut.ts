/**
 * The leave-one-out check of the influence scores (the paper's Fig. 2): retrain both
 * stages without a pretraining example z and compare the actual change of the test loss
 * with the prediction −I(z, xt)/m; the same procedure without removing anything gives
 * the base, and once more with a permuted summation order, the retraining noise floor.
 */
import { BatchSet } from '../batches';
import type { ExampleSource } from '../data';
import { seededRandom, shuffledIndices } from '../influence/sampling';
import { median, pearson, spearman } from '../../common/correlation';
import { TwoStageRetrainer } from './retrainStages';
import type { RetrainRun, RetrainSettings, TwoStageProblem, RetrainPoint } from './retrainStages';

/** Which half of the sample an example is in. */
export type SampleKind = 'top' | 'random';

export interface SampledExample {
  readonly index: number;
  readonly sample: SampleKind;
}

/**
 * N pretraining examples to retrain without: the ⌊N/2⌋ of largest |score| (ties by index),
 * and N − ⌊N/2⌋ drawn uniformly (seeded) from the others. Top first, then random, each in
 * the order chosen.
 */
export function sampleForValidation(scores: ArrayLike<number>, n: number, seed: number): SampledExample[] {
  const m = scores.length;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`sample size ${n} is not a positive integer`);
  const count = Math.min(n, m);
  const topCount = Math.floor(count / 2);
  const byMagnitude = Array.from({ length: m }, (_, i) => i).sort((a, b) => Math.abs(scores[b] as number) - Math.abs(scores[a] as number) || a - b);
  const top = byMagnitude.slice(0, topCount);
  const taken = new Set(top);
  const rest = Array.from({ length: m }, (_, i) => i).filter((i) => !taken.has(i));
  const random = shuffledIndices(rest.length, seededRandom(seed)).slice(0, count - topCount).map((k) => rest[k] as number);
  return [...top.map((index) => ({ index, sample: 'top' as const })), ...random.map((index) => ({ index, sample: 'random' as const }))];
}

/** The retraining problem: the two stages, the pretraining set Z as a source, the test points. */
export interface LeaveOneOutProblem extends Omit<TwoStageProblem, 'pretrain'> {
  readonly pretrain: { readonly model: TwoStageProblem['pretrain']['model']; readonly loss: TwoStageProblem['pretrain']['loss']; readonly train: ExampleSource };
  /** Examples per batch of the full-batch gradients. */
  readonly batchSize: number;
}

export interface LeaveOneOutProgress {
  /** 0-based run: 0 the base, 1 the noise run, then one per sampled example. */
  readonly run: number;
  readonly runs: number;
  readonly label: string;
  readonly stage: 'pretrain' | 'finetune';
  readonly iteration: number;
  readonly maxIterations: number;
  readonly gradientNorm: number;
  /** Overall fraction done, counting each run as one equal part. */
  readonly fraction: number;
}

/**
 * Finished runs kept across invocations, so that a stopped check resumes where it stopped:
 * keys `base`, `noise` and `without-<index>`. Every run is deterministic given what the
 * journal's owner keys it by (files, settings, case, test points, seed, backend), so a
 * stored run stands for the run.
 */
export interface RetrainJournal {
  load(key: string): Promise<RetrainRun | undefined>;
  store(key: string, run: RetrainRun): Promise<void>;
}

export interface LeaveOneOutOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LeaveOneOutProgress) => void;
  /** Called after each run (for logs); `resumed` when it came from the journal. */
  readonly onRun?: (label: string, run: RetrainRun, resumed: boolean) => void;
  /** Leave-one-out runs start at the base run's end instead of the saved weights. */
  readonly startFromBase?: boolean;
  readonly journal?: RetrainJournal;
}

export interface LeaveOneOutRow extends SampledExample {
  readonly run: RetrainRun;
  /** L_test(retrained without z) − L_test(base), by {@link RetrainRun.testLossChange}. */
  readonly actual: number;
}

export interface LeaveOneOutResult {
  /** Σ_t f(x_t) at the saved weights. */
  readonly savedTestLoss: number;
  /** Both stages retrained on all of Z, batches in dataset order. */
  readonly base: RetrainRun;
  /** The same with the pretraining batches in a seeded permuted order. */
  readonly noise: RetrainRun;
  readonly rows: LeaveOneOutRow[];
}

/** The end point of a journalled run that no later run starts from. */
const NO_POINT: RetrainPoint = { pretrain: new Float64Array(0), finetune: new Float64Array(0) };

/**
 * Retrains without each sampled example and measures the change of the summed test loss.
 *
 * ```tex
 * \Delta L(z) = \sum_t f\big(x_t; \theta'_{Z\setminus\{z\}}\big) - \sum_t f\big(x_t; \theta'_{Z}\big) \;\approx\; -\tfrac1m I(z, x_t)
 * ```
 *
 * ## Method
 * Every run is {@link TwoStageRetrainer.run} from the saved weights (deterministic
 * L-BFGS, full batches). The base run uses Z in dataset order; the noise run differs from
 * it only in the order in which the full-batch gradient is summed (a seeded permutation
 * of Z, so the float32 batch sums round differently); each leave-one-out run sums Z in
 * the base run's batches and subtracts z's own loss (so that the sums shared with the
 * base run round alike), from the saved weights or (`startFromBase`) from the base run's
 * end, where its objective's minimiser is near. Changes of the test loss are measured from
 * the base run's end by quadrature ({@link RetrainRun.testLossChange}). Anchored settings
 * make the saved weights the base objective's exact minimiser (the base run takes no
 * step). With a journal, runs it holds are not run again, and each finished run is added
 * to it.
 */
export async function leaveOneOut(
  problem: LeaveOneOutProblem,
  sample: readonly SampledExample[],
  settings: RetrainSettings,
  seed: number,
  o: LeaveOneOutOptions = {},
): Promise<LeaveOneOutResult> {
  const retrainer = new TwoStageRetrainer({ ...problem, pretrain: { model: problem.pretrain.model, loss: problem.pretrain.loss, count: problem.pretrain.train.count } }, settings);
  const savedTestLoss = retrainer.savedTestLoss();
  const runs = sample.length + 2;
  const z = problem.pretrain.train;
  const model = problem.pretrain.model;
  // Z in dataset order, the batches of the base run, of every leave-one-out run and of the anchors.
  const full = await BatchSet.load(model, z, problem.batchSize, undefined, o.signal);
  try {
    let anchored = false;
    let runIndex = 0;
    const runOn = async (
      key: string,
      label: string,
      load: () => Promise<{ set: BatchSet; removed?: BatchSet; owned: BatchSet[] }>,
      at: { readonly from?: RetrainPoint; readonly reference?: Float64Array; readonly pretrainRoundoff?: number } = {},
    ): Promise<RetrainRun> => {
      const k = runIndex++;
      const stored = await o.journal?.load(key);
      if (stored) {
        o.onRun?.(label, stored, true);
        o.onProgress?.({ run: k, runs, label, stage: 'finetune', iteration: 0, maxIterations: 0, gradientNorm: stored.finetune.gradientNorm, fraction: (k + 1) / runs });
        return stored;
      }
      if (settings.anchored && !anchored) {
        await retrainer.anchorAt(full, o.signal);
        anchored = true;
      }
      const sets = await load();
      try {
        const run = await retrainer.run(sets.set, {
          signal: o.signal,
          ...at,
          ...(sets.removed ? { removed: sets.removed } : {}),
          onProgress: (p) => {
            const within = p.stage === 'pretrain' ? 0.8 * (p.iteration / p.maxIterations) : 0.8 + 0.2 * (p.iteration / p.maxIterations);
            o.onProgress?.({ run: k, runs, label, ...p, fraction: (k + within) / runs });
          },
        });
        // Only the base run's end is a later run's start: the others are kept without theirs.
        await o.journal?.store(key, key === 'base' ? run : { ...run, end: NO_POINT });
        o.onRun?.(label, run, false);
        return run;
      } finally {
        for (const b of sets.owned) b.dispose();
      }
    };
    const base = await runOn('base', 'base (nothing removed)', async () => ({ set: full, owned: [] }));
    const noise = await runOn(
      'noise',
      'noise floor (nothing removed, permuted batches)',
      async () => {
        const set = await BatchSet.load(model, z, problem.batchSize, shuffledIndices(z.count, seededRandom(seed + 1)), o.signal);
        return { set, owned: [set] };
      },
      { reference: base.end.finetune },
    );
    // Anchored, the noise run starts with ‖∇‖ from summation order alone: the pretraining
    // gradient's round-off level, below which a leave-one-out run cannot resolve its perturbation.
    const roundoff = settings.anchored ? noise.pretrain.initialGradientNorm : undefined;
    const rows: LeaveOneOutRow[] = [];
    for (const e of sample) {
      const run = await runOn(
        `without-${e.index}`,
        `without example ${e.index} (${e.sample})`,
        async () => {
          const removed = await BatchSet.load(model, z, 1, [e.index], o.signal);
          return { set: full, removed, owned: [removed] };
        },
        { ...(o.startFromBase ? { from: base.end } : {}), reference: base.end.finetune, ...(roundoff !== undefined ? { pretrainRoundoff: roundoff } : {}) },
      );
      rows.push({ ...e, run, actual: run.testLossChange });
    }
    return { savedTestLoss, base, noise, rows };
  } finally {
    full.dispose();
  }
}

/** Pearson's r and Spearman's ρ of predicted against actual, on one part of the sample. */
export interface SampleCorrelation {
  readonly n: number;
  /** NaN where undefined (fewer than two rows, or a constant vector). */
  readonly pearson: number;
  readonly spearman: number;
}

/** Correlations on the top-|score| half, the random half and the whole sample. */
export interface CorrelationsBySample {
  readonly top: SampleCorrelation;
  readonly random: SampleCorrelation;
  readonly all: SampleCorrelation;
}

/** r and ρ between `predicted[i]` and `actual[i]` per sample half and overall. */
export function correlationsBySample(kinds: readonly SampleKind[], predicted: readonly number[], actual: readonly number[]): CorrelationsBySample {
  const part = (keep: (k: SampleKind) => boolean): SampleCorrelation => {
    const idx = kinds.map((k, i) => (keep(k) ? i : -1)).filter((i) => i >= 0);
    const p = idx.map((i) => predicted[i] as number);
    const a = idx.map((i) => actual[i] as number);
    return { n: idx.length, pearson: pearson(p, a), spearman: spearman(p, a) };
  };
  return { top: part((k) => k === 'top'), random: part((k) => k === 'random'), all: part(() => true) };
}

/** The noise floor against the effects measured. */
export interface NoiseFloor {
  /** |L_test(noise run) − L_test(base)|. */
  readonly spread: number;
  /** Median |actual| over the whole sample, and per half. */
  readonly medianAbsActual: { readonly all: number; readonly top: number; readonly random: number };
  /** The rule: the floor is comparable to the effects when spread > threshold × median |actual|. */
  readonly threshold: number;
  /** Which of all / top / random fail the rule. */
  readonly comparable: { readonly all: boolean; readonly top: boolean; readonly random: boolean };
}

/** A noise floor counts as comparable to the effects above this share of median |ΔL|. */
export const NOISE_FLOOR_THRESHOLD = 0.1;

/** The noise-floor verdict of {@link NoiseFloor} for a finished check. */
export function noiseFloor(result: LeaveOneOutResult, threshold = NOISE_FLOOR_THRESHOLD): NoiseFloor {
  const spread = Math.abs(result.noise.testLossChange);
  const med = (keep: (k: SampleKind) => boolean): number => median(result.rows.filter((r) => keep(r.sample)).map((r) => Math.abs(r.actual)));
  const medianAbsActual = { all: med(() => true), top: med((k) => k === 'top'), random: med((k) => k === 'random') };
  const comparable = (m: number): boolean => Number.isFinite(m) && spread > threshold * m;
  return {
    spread,
    medianAbsActual,
    threshold,
    comparable: { all: comparable(medianAbsActual.all), top: comparable(medianAbsActual.top), random: comparable(medianAbsActual.random) },
  };
}
