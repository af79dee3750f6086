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
  /** Present when several processes work through the same check together. */
  readonly shared?: SharedRuns;
}

/**
 * Runs shared out among processes that run the same check on one journal: each takes the
 * runs nobody has taken, and waits for the others' where it needs them.
 */
export interface SharedRuns {
  /** Takes the run `key` for this process; false while another live process holds it. */
  claim(key: string): Promise<boolean>;
  /** Lets go of a run taken by {@link claim} (stored, or given up unfinished). */
  release(key: string): Promise<void>;
  /**
   * Waits for the run `key` that another process holds: the run once stored, or undefined
   * when its holder let it go unfinished (it is then anyone's to take).
   */
  wait(key: string, signal?: AbortSignal): Promise<RetrainRun | undefined>;
}

export interface LeaveOneOutOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LeaveOneOutProgress) => void;
  /**
   * Called after each run (for logs); `from` says where a run not computed here came from:
   * the journal, or another process sharing it.
   */
  readonly onRun?: (label: string, run: RetrainRun, from?: 'journal' | 'shared') => void;
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
 * to it. A shared journal ({@link SharedRuns}) lets several processes run one check: each
 * takes the leave-one-out runs nobody holds, waits for the base and noise runs where
 * another process has them, and at the end for the others' rows; every process returns
 * the whole result (each run is deterministic, so which process ran it does not matter).
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
    interface Runner {
      readonly key: string;
      readonly label: string;
      readonly load: () => Promise<{ set: BatchSet; removed?: BatchSet; owned: BatchSet[] }>;
      readonly at?: { readonly from?: RetrainPoint; readonly reference?: Float64Array; readonly pretrainRoundoff?: number };
    }
    const done = (k: number, r: Runner, run: RetrainRun, from?: 'journal' | 'shared'): RetrainRun => {
      o.onRun?.(r.label, run, from);
      if (from) o.onProgress?.({ run: k, runs, label: r.label, stage: 'finetune', iteration: 0, maxIterations: 0, gradientNorm: run.finetune.gradientNorm, fraction: (k + 1) / runs });
      return run;
    };
    const compute = async (k: number, r: Runner): Promise<RetrainRun> => {
      if (settings.anchored && !anchored) {
        await retrainer.anchorAt(full, o.signal);
        anchored = true;
      }
      const sets = await r.load();
      try {
        const run = await retrainer.run(sets.set, {
          signal: o.signal,
          ...r.at,
          ...(sets.removed ? { removed: sets.removed } : {}),
          onProgress: (p) => {
            const within = p.stage === 'pretrain' ? 0.8 * (p.iteration / p.maxIterations) : 0.8 + 0.2 * (p.iteration / p.maxIterations);
            o.onProgress?.({ run: k, runs, label: r.label, ...p, fraction: (k + within) / runs });
          },
        });
        // Only the base run's end is a later run's start: the others are kept without theirs.
        await o.journal?.store(r.key, r.key === 'base' ? run : { ...run, end: NO_POINT });
        return done(k, r, run);
      } finally {
        for (const b of sets.owned) b.dispose();
      }
    };
    const shared = o.journal?.shared;
    /**
     * Run k: from the journal, else computed here; where another process holds it, waited
     * for, or with `later`, left to it (undefined) so that this process takes the next one.
     */
    const obtain = async (k: number, r: Runner, later: boolean): Promise<RetrainRun | undefined> => {
      for (;;) {
        const stored = await o.journal?.load(r.key);
        if (stored) return done(k, r, stored, 'journal');
        if (!shared) return compute(k, r);
        if (await shared.claim(r.key)) {
          try {
            // Stored between the look above and the claim (its holder just let go): not run twice.
            const justStored = await o.journal?.load(r.key);
            return justStored ? done(k, r, justStored, 'journal') : await compute(k, r);
          } finally {
            await shared.release(r.key);
          }
        }
        if (later) return undefined;
        const theirs = await shared.wait(r.key, o.signal);
        if (theirs) return done(k, r, theirs, 'shared');
        // Its holder let it go unfinished: take it if nobody else does.
      }
    };
    const needed = async (k: number, r: Runner): Promise<RetrainRun> => (await obtain(k, r, false)) as RetrainRun;

    const base = await needed(0, { key: 'base', label: 'base (nothing removed)', load: async () => ({ set: full, owned: [] }) });
    const noise = await needed(1, {
      key: 'noise',
      label: 'noise floor (nothing removed, permuted batches)',
      load: async () => {
        const set = await BatchSet.load(model, z, problem.batchSize, shuffledIndices(z.count, seededRandom(seed + 1)), o.signal);
        return { set, owned: [set] };
      },
      at: { reference: base.end.finetune },
    });
    // Anchored, the noise run starts with ‖∇‖ from summation order alone: the pretraining
    // gradient's round-off level, below which a leave-one-out run cannot resolve its perturbation.
    const roundoff = settings.anchored ? noise.pretrain.initialGradientNorm : undefined;
    const runners: Runner[] = sample.map((e) => ({
      key: `without-${e.index}`,
      label: `without example ${e.index} (${e.sample})`,
      load: async () => {
        const removed = await BatchSet.load(model, z, 1, [e.index], o.signal);
        return { set: full, removed, owned: [removed] };
      },
      at: { ...(o.startFromBase ? { from: base.end } : {}), reference: base.end.finetune, ...(roundoff !== undefined ? { pretrainRoundoff: roundoff } : {}) },
    }));
    // Sharing a journal, this process takes the runs nobody holds, then waits for the rest.
    const found: (RetrainRun | undefined)[] = [];
    for (const [i, r] of runners.entries()) found.push(await obtain(2 + i, r, true));
    for (const [i, r] of runners.entries()) found[i] ??= await needed(2 + i, r);
    const rows: LeaveOneOutRow[] = sample.map((e, i) => {
      const run = found[i] as RetrainRun;
      return { ...e, run, actual: run.testLossChange };
    });
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
