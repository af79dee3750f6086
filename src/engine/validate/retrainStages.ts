/**
 * Retraining both stages deterministically for the leave-one-out check: full-batch L-BFGS
 * on the pretraining objective G over a given set (Z, or Z without some examples), warm
 * started from the saved pretrained weights; then the finetuning stage from the saved
 * finetuned weights, Case 1 or Case 2 (contract §1); then the summed test loss.
 *
 * ## Notes
 * Symbols: W → `sharedLayers`, U → the pretraining head, Θ → the finetuning head,
 * W̄′ → the retrained pretrained W, α → `alpha`. The models are changed in place while a
 * run lasts and restored to their saved weights afterwards.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingCase, LossName } from '../../common/workspaceConfig';
import { ParamBlock, accumulateGradient, accumulateHessianVectorProduct } from '../autodiff/hessianVectorProduct';
import { yieldToEventLoop } from '../batches';
import { throwIfAborted } from '../cancel';
import type { BatchSet, TensorBatch } from '../batches';
import { splitParameters } from '../influence/influenceScores';
import { perExampleLoss } from '../losses';
import type { Model } from '../model/model';
import { minimizeLbfgs } from './lbfgs';
import type { LbfgsOptions, LbfgsStop } from './lbfgs';

/**
 * A run started elsewhere than the saved weights (`from`) goes on in each stage until
 * ‖∇‖ ≤ this fraction of its starting ‖∇‖ as well (or the line search meets float32
 * round-off). A leave-one-out run started at the base run's end
 * begins with the removed example's gradient alone, −∇g(z)/m, which can be below the
 * absolute tolerance: without this it would stop at once and measure a change of 0. With
 * it, the perturbation is resolved to about 1% where round-off allows.
 */
export const RELATIVE_GRADIENT_TOLERANCE = 1e-2;

/**
 * A stage stops (`stalled`) after this many L-BFGS steps without lowering its smallest ‖∇‖
 * by 1%: at a kink of the objective (max pooling switching its maximiser) or at float32
 * round-off, where more steps change nothing but the time taken (seen on the example:
 * leave-one-out runs spent 200 steps at ‖∇‖ 2e-8–2e-10, the round-off level).
 */
export const STALL_ITERATIONS = 20;

/** Bumped whenever a change here changes what a retraining run computes (journals key on it). */
export const RETRAIN_RULES_VERSION = 4;

/** The stopping rule of every retraining run (both stages). */
export interface RetrainSettings {
  /** Stop a stage once ‖∇‖₂ of its objective is at most this. */
  readonly gradientTolerance: number;
  /** At most this many L-BFGS steps per stage. */
  readonly maxIterations: number;
  /** L-BFGS memory (curvature pairs). */
  readonly memory: number;
  /**
   * μ_p, μ_f of the damped response: (μ/2)‖θ − θ_saved‖² added to each stage's objective
   * (0: plain leave-one-out retraining). With μ equal to the influence damping λ, the
   * first-order change of the retrained solution is exactly −(H + λI)⁻¹∇g(z)/m, the
   * quantity the damped influence function estimates.
   */
  readonly proximal: { readonly pretrain: number; readonly finetune: number };
  /**
   * Anchor each stage at the saved weights: subtract the stage objective's gradient there
   * (a linear term), so that the saved weights are the exact minimiser of what is
   * retrained, whether or not training reached a stationary point. With the proximal term
   * this is the damped response at the saved weights: removing z starts each run with the
   * gradient −∇g(z)/m alone, and the first-order change is −(H + λI)⁻¹∇g(z)/m with H the
   * Hessian at the saved weights, the one the influence function uses (in parameter space,
   * what Bae et al. 2022 call the proximal Bregman response function).
   */
  readonly anchored?: boolean;
  /**
   * What a run finds (default `minimum`): the minimiser of each stage's objective plus
   * (μ/2)‖θ − θ_saved‖² — the response the plain damping form (H + λI)⁻¹ is the derivative
   * of — or, `stationary`, the minimiser of ½‖∇(stage objective)‖² + (μ/2)‖θ − θ_saved‖²:
   * a stationary point of the objective near the saved weights, whose first-order response
   * to removing z is −(H² + μI)⁻¹H∇g(z)/m, the squared form (eq. 16), defined where H is
   * indefinite. With `stationary` the stage objectives themselves carry no proximal term.
   */
  readonly response?: 'minimum' | 'stationary';
}

/** How one stage of one run ended. */
export interface StageRun {
  readonly iterations: number;
  readonly evaluations: number;
  /** ‖∇‖ of the stage objective at the start (the saved weights). */
  readonly initialGradientNorm: number;
  /**
   * The largest ‖∇‖ over the run. Far above the start in a run that resolves a small
   * perturbation, it means the run left the start's neighbourhood for another minimum:
   * the objective's Hessian is not positive definite there (see {@link leftStart}).
   */
  readonly maxGradientNorm: number;
  readonly gradientNorm: number;
  /** The stage objective at the end. */
  readonly objective: number;
  readonly converged: boolean;
  readonly stop: LbfgsStop;
}

export interface RetrainRun {
  /** Σ_t f(x_t) at the retrained finetuned weights. */
  readonly testLoss: number;
  /**
   * Σ_t f(x_t) here minus at the run's reference point (the base run's end; the saved
   * weights for the base run itself), by quadrature of the test-loss gradient along the
   * segment between them ({@link testLossChange}): exact where the difference of two float32
   * loss sums would lose the change to round-off.
   */
  readonly testLossChange: number;
  readonly pretrain: StageRun;
  readonly finetune: StageRun;
  /** Where the run ended (a later run may start there). */
  readonly end: RetrainPoint;
}

/** Both models' parameters: all of the pretraining model's, all of the finetuning model's. */
export interface RetrainPoint {
  readonly pretrain: Float64Array;
  readonly finetune: Float64Array;
}

/** The two stages, their data and the selected test points. */
export interface TwoStageProblem {
  /** `count`: m, the size of the full pretraining set Z (G is the sum over a set divided by m). */
  readonly pretrain: { readonly model: Model; readonly loss: LossName; readonly count: number };
  readonly finetune: { readonly model: Model; readonly loss: LossName; readonly train: BatchSet };
  readonly sharedLayers: readonly string[];
  /** The selected test points; their losses are summed (eq. 8). */
  readonly test: BatchSet;
  readonly case: EmbeddingCase;
  /** α of Case 2's proximal surrogate α‖W − W̄′‖². */
  readonly alpha: number;
}

export interface RetrainProgress {
  readonly stage: 'pretrain' | 'finetune';
  readonly iteration: number;
  readonly maxIterations: number;
  readonly gradientNorm: number;
}

/** Replaces the block's parameters by the values of a float64 vector (rounded to float32). */
export function setBlockValues(block: ParamBlock, x: Float64Array): void {
  const model = block.model;
  const next = [...model.params];
  block.indices.forEach((pi, k) => {
    const spec = block.specs[k];
    const off = block.offsets[k] as number;
    if (!spec) return;
    next[pi] = tf.tensor(Float32Array.from(x.subarray(off, off + spec.size)), [...spec.shape], 'float32');
  });
  model.setParams(next);
}

/** A term c‖x_P − center‖² of an objective (all of x when `positions` is omitted). */
export interface ProximalTerm {
  readonly weight: number;
  readonly positions?: readonly number[];
  readonly center: Float64Array;
}

/** A term −gᵀ(x − center) of an objective (the anchor of {@link RetrainSettings.anchored}). */
export interface LinearTerm {
  readonly gradient: Float64Array;
  readonly center: Float64Array;
}

/** What {@link lossAndGradient} adds to the data term, and takes out of it. */
export interface ObjectiveTerms {
  readonly proximal?: readonly ProximalTerm[];
  readonly linear?: LinearTerm;
  /**
   * Examples of `data` whose losses are taken out of the sum, evaluated on their own: the
   * rest is then summed in exactly the batches of the full set, so that at the same x the
   * full set's float32 batch sums round the same way in every run.
   */
  readonly removed?: BatchSet;
  readonly signal?: AbortSignal;
}

/**
 * Σ over the batches of `data` minus Σ over `terms.removed` of what `add` accumulates into
 * a vector (and returns as a number): the removed examples' part is summed on its own and
 * subtracted, so that the data's batch sums round as in a run that removes nothing.
 */
async function sumWithoutRemoved(
  size: number,
  data: BatchSet,
  terms: ObjectiveTerms,
  add: (batch: TensorBatch, out: Float64Array) => number,
): Promise<{ total: number; vector: Float64Array }> {
  const vector = new Float64Array(size);
  let total = 0;
  for (const b of data.batches) {
    throwIfAborted(terms.signal, 'retraining');
    total += add(b, vector);
    await yieldToEventLoop();
  }
  if (terms.removed && terms.removed.count > 0) {
    const out = new Float64Array(size);
    for (const b of terms.removed.batches) total -= add(b, out);
    for (let i = 0; i < size; i++) vector[i] = (vector[i] as number) - (out[i] as number);
  }
  return { total, vector };
}

/**
 * The loss of a batch set without the removed examples, divided by `normalizer`, and its
 * gradient on a block, at the block values x, plus proximal and linear terms.
 *
 * ```tex
 * L(x) = \tfrac{1}{N}\Big(\textstyle\sum_{i \in S} \ell(z_i; x) - \sum_{i \in R} \ell(z_i; x)\Big) \;+\; \sum_t c_t \lVert x_{P_t} - x^{(t)}\rVert^2 \;-\; g^\top (x - x^{(g)})
 * ```
 */
export async function lossAndGradient(
  loss: LossName,
  block: ParamBlock,
  data: BatchSet,
  normalizer: number,
  x: Float64Array,
  terms: ObjectiveTerms = {},
): Promise<{ value: number; gradient: Float64Array }> {
  setBlockValues(block, x);
  const { total, vector: gradient } = await sumWithoutRemoved(block.size, data, terms, (b, out) => accumulateGradient(loss, block, b, out));
  const inv = 1 / normalizer;
  let value = total * inv;
  for (let i = 0; i < gradient.length; i++) gradient[i] = (gradient[i] as number) * inv;
  for (const term of terms.proximal ?? []) {
    const c = term.weight;
    if (c === 0) continue;
    const n = term.positions ? term.positions.length : x.length;
    for (let k = 0; k < n; k++) {
      const p = term.positions ? (term.positions[k] as number) : k;
      const d = (x[p] as number) - (term.center[k] as number);
      value += c * d * d;
      gradient[p] = (gradient[p] as number) + 2 * c * d;
    }
  }
  if (terms.linear) {
    const { gradient: g, center } = terms.linear;
    for (let i = 0; i < gradient.length; i++) {
      value -= (g[i] as number) * ((x[i] as number) - (center[i] as number));
      gradient[i] = (gradient[i] as number) - (g[i] as number);
    }
  }
  return { value, gradient };
}

/**
 * The stationarity objective of a stage and its gradient: half the squared gradient norm of
 * the stage objective L (data, removed examples, proximal and linear terms as in
 * {@link lossAndGradient}) plus a proximal term.
 *
 * ```tex
 * \Phi(x) = \tfrac12 \lVert \nabla L(x) \rVert^2 + \tfrac{\mu}{2} \lVert x - c \rVert^2, \qquad
 * \nabla \Phi(x) = \nabla^2 L(x)\, \nabla L(x) + \mu (x - c)
 * ```
 *
 * ## Notes
 * One gradient pass and one Hessian-vector pass (Pearlmutter's R-operator, exact) over
 * the data. At a stationary point of L (the anchored saved weights), the first-order
 * response of argmin Φ to a perturbation ε∇g of ∇L is −ε(H² + μI)⁻¹H∇g: eq. 16's squared
 * damping form. Φ's value comes from ∇L alone, so it carries no float32 loss round-off.
 */
export async function stationarityAndGradient(
  loss: LossName,
  block: ParamBlock,
  data: BatchSet,
  normalizer: number,
  x: Float64Array,
  terms: ObjectiveTerms,
  mu: number,
  center: Float64Array,
): Promise<{ value: number; gradient: Float64Array }> {
  const { gradient: g } = await lossAndGradient(loss, block, data, normalizer, x, terms);
  const { vector: hg } = await sumWithoutRemoved(block.size, data, terms, (b, out) => {
    accumulateHessianVectorProduct(loss, block, block, g, b, out);
    return 0;
  });
  const inv = 1 / normalizer;
  for (let i = 0; i < hg.length; i++) hg[i] = (hg[i] as number) * inv;
  // The proximal terms' Hessian 2c·I on their positions (the linear term has none).
  for (const term of terms.proximal ?? []) {
    if (term.weight === 0) continue;
    const n = term.positions ? term.positions.length : x.length;
    for (let k = 0; k < n; k++) {
      const q = term.positions ? (term.positions[k] as number) : k;
      hg[q] = (hg[q] as number) + 2 * term.weight * (g[q] as number);
    }
  }
  let value = 0;
  for (let i = 0; i < g.length; i++) value += 0.5 * (g[i] as number) ** 2;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] as number) - (center[i] as number);
    value += 0.5 * mu * d * d;
    hg[i] = (hg[i] as number) + mu * d;
  }
  return { value, gradient: hg };
}

/** Nodes and weights of 3-point Gauss–Legendre quadrature on [0, 1] (exact for degree ≤ 5). */
const GAUSS_LEGENDRE_3 = [
  { s: 0.5 - 0.5 * Math.sqrt(0.6), w: 5 / 18 },
  { s: 0.5, w: 8 / 18 },
  { s: 0.5 + 0.5 * Math.sqrt(0.6), w: 5 / 18 },
] as const;

/**
 * L(b) − L(a) for the summed loss of a batch set over a block, as the integral of its
 * gradient along the segment (3-point Gauss–Legendre).
 *
 * ```tex
 * L(b) - L(a) = \int_0^1 \nabla L\big(a + s(b - a)\big)^\top (b - a)\, ds
 * ```
 *
 * ## Notes
 * The change of a leave-one-out run's test loss is far below the float32 round-off of the
 * loss itself (|ΔL| ~ 1e-6 of L for a random example at m = 24,000), so L(b) − L(a) from
 * two float32 sums measures round-off; the gradient has float32 *relative* accuracy and
 * b − a is exact (both are float32 vectors), so the quadrature keeps the change's digits.
 * The quadrature error is O(‖b − a‖⁶ · ∂⁶L): nothing at these step sizes.
 */
export async function lossChange(loss: LossName, block: ParamBlock, data: BatchSet, a: Float64Array, b: Float64Array, signal?: AbortSignal): Promise<number> {
  const d = b.map((v, i) => v - (a[i] as number));
  if (d.every((v) => v === 0)) return 0;
  let change = 0;
  for (const { s, w } of GAUSS_LEGENDRE_3) {
    const point = a.map((v, i) => v + s * (d[i] as number));
    const { gradient } = await lossAndGradient(loss, block, data, 1, point, signal ? { signal } : {});
    let slope = 0;
    for (let i = 0; i < d.length; i++) slope += (gradient[i] as number) * (d[i] as number);
    change += w * slope;
  }
  return change;
}

/** Σ over a batch set of the per-example losses, accumulated in float64. */
export function summedLoss(model: Model, loss: LossName, data: BatchSet): number {
  let total = 0;
  for (const b of data.batches) {
    const l = tf.tidy(() => perExampleLoss(loss, { value: model.forward(model.params, b.x), tangent: null }, b.y).value.dataSync());
    for (let i = 0; i < l.length; i++) total += l[i] as number;
  }
  return total;
}

/**
 * Retrains both stages from the saved weights, any number of times, each time on a
 * different pretraining set; the models are back at their saved weights between runs.
 */
export class TwoStageRetrainer {
  private readonly blocks: ReturnType<typeof splitParameters>;
  private readonly savedPretrain: Float64Array;
  private readonly savedFinetune: Float64Array;
  /** Positions of W inside the finetuning model's full block (W in the pretraining W order). */
  private readonly wInFinetune: number[];

  constructor(
    private readonly problem: TwoStageProblem,
    private readonly settings: RetrainSettings,
  ) {
    this.blocks = splitParameters(problem.pretrain.model, problem.finetune.model, problem.sharedLayers);
    this.savedPretrain = this.blocks.preAll.values();
    this.savedFinetune = this.blocks.finAll.values();
    const { finAll, finW } = this.blocks;
    this.wInFinetune = [];
    finW.indices.forEach((pi, k) => {
      const j = finAll.indices.indexOf(pi);
      const off = finAll.offsets[j] as number;
      for (let i = 0; i < (finW.specs[k]?.size ?? 0); i++) this.wInFinetune.push(off + i);
    });
  }

  /** Σ_t f(x_t) at the saved finetuned weights. */
  savedTestLoss(): number {
    return summedLoss(this.problem.finetune.model, this.problem.finetune.loss, this.problem.test);
  }

  /**
   * The anchors of {@link RetrainSettings.anchored}: the gradients at the saved weights of
   * the pretraining objective over `pretrainSet` (the full set Z, in the batches every run
   * then sums in) and of the finetuning stage's objective, with W̄ the saved pretrained W.
   */
  async anchorAt(pretrainSet: BatchSet, signal?: AbortSignal): Promise<void> {
    const p = this.problem;
    const { preAll, preW, finAll, finW, finTheta } = this.blocks;
    try {
      const pre = await lossAndGradient(p.pretrain.loss, preAll, pretrainSet, p.pretrain.count, this.savedPretrain, signal ? { signal } : {});
      const wBar = preW.projectFrom(preAll, this.savedPretrain);
      let fin;
      if (p.case === 'fixed') {
        setBlockValues(finW, wBar);
        fin = await lossAndGradient(p.finetune.loss, finTheta, p.finetune.train, p.finetune.train.count, finTheta.projectFrom(finAll, this.savedFinetune), signal ? { signal } : {});
      } else {
        fin = await lossAndGradient(p.finetune.loss, finAll, p.finetune.train, p.finetune.train.count, this.savedFinetune, {
          proximal: [{ weight: p.alpha, positions: this.wInFinetune, center: wBar }],
          ...(signal ? { signal } : {}),
        });
      }
      this.anchors = { pretrain: pre.gradient, finetune: fin.gradient };
    } finally {
      this.restore();
    }
  }

  private anchors: { readonly pretrain: Float64Array; readonly finetune: Float64Array } | undefined;

  /**
   * One run: (W̄′, Ū′) = argmin over `pretrainSet` without `removed` of the mean
   * pretraining loss, from the saved (W̄, Ū); then Case 1: Θ′ = argmin_Θ F(W̄′, Θ) from the
   * saved Θ*; Case 2: (W′, Θ′) = argmin α‖W − W̄′‖² + F(W, Θ) from the saved (W*, Θ*);
   * each with the proximal and anchor terms of the settings. Returns Σ_t f(x_t), and its
   * change from `reference` (finetuning-model weights; default the saved ones).
   */
  async run(
    pretrainSet: BatchSet,
    o: {
      signal?: AbortSignal;
      onProgress?: (p: RetrainProgress) => void;
      from?: RetrainPoint;
      removed?: BatchSet;
      reference?: Float64Array;
      /** ‖∇‖ of the pretraining stage below which round-off decides (see {@link LbfgsOptions.roundoffFloor}). */
      pretrainRoundoff?: number;
    } = {},
  ): Promise<RetrainRun> {
    const p = this.problem;
    // Where the optimiser starts; the objectives (and their proximal centres) stay the saved weights'.
    const startPre = o.from?.pretrain ?? this.savedPretrain;
    const startFin = o.from?.finetune ?? this.savedFinetune;
    const { preAll, preW, finAll, finW, finTheta } = this.blocks;
    const st = this.settings;
    const anchors = st.anchored ? this.anchors : undefined;
    if (st.anchored && !anchors) throw new Error('anchored retraining needs anchorAt() first');
    const lbfgs = (stage: RetrainProgress['stage']) => ({
      gradientTolerance: st.gradientTolerance,
      // A warm start (a leave-one-out run from the base run's end), or any anchored run, is a small perturbation to resolve.
      ...(o.from || anchors ? { relativeTolerance: RELATIVE_GRADIENT_TOLERANCE } : {}),
      maxIterations: st.maxIterations,
      stallIterations: STALL_ITERATIONS,
      ...(stage === 'pretrain' && o.pretrainRoundoff !== undefined ? { roundoffFloor: o.pretrainRoundoff } : {}),
      memory: st.memory,
      signal: o.signal,
      onIteration: (iteration: number, _value: number, gradientNorm: number) =>
        o.onProgress?.({ stage, iteration, maxIterations: st.maxIterations, gradientNorm }),
    });
    const signal = o.signal ? { signal: o.signal } : {};
    try {
      // (1/m) Σ_{i ∈ set \ removed} g(z_i) + (μ_p/2)‖θ − θ̄‖² [− r̄ᵀ(θ − θ̄)]: removing z is the perturbation ε = −1/m of eq. 8's G + εg(z).
      const stationary = st.response === 'stationary';
      // A stage's objective, minimised, or (stationary) its ½‖∇‖² plus the proximal term.
      const stageObjective = (loss: LossName, block: ParamBlock, data: BatchSet, normalizer: number, terms: ObjectiveTerms, mu: number, center: Float64Array) =>
        stationary
          ? (x: Float64Array) => stationarityAndGradient(loss, block, data, normalizer, x, terms, mu, center)
          : (x: Float64Array) => lossAndGradient(loss, block, data, normalizer, x, { ...terms, proximal: [...(terms.proximal ?? []), { weight: mu / 2, center }] });
      const preTerms: ObjectiveTerms = {
        ...(o.removed ? { removed: o.removed } : {}),
        ...(anchors ? { linear: { gradient: anchors.pretrain, center: this.savedPretrain } } : {}),
        ...signal,
      };
      const pre = await minimizeLbfgs(stageObjective(p.pretrain.loss, preAll, pretrainSet, p.pretrain.count, preTerms, st.proximal.pretrain, this.savedPretrain), startPre, lbfgs('pretrain'));
      const wBar = preW.projectFrom(preAll, pre.x);

      let fin;
      if (p.case === 'fixed') {
        // Case 1: W held at W̄′, Θ retrained.
        setBlockValues(finW, wBar);
        const thetaSaved = finTheta.projectFrom(finAll, this.savedFinetune);
        const finTerms: ObjectiveTerms = {
          ...(anchors ? { linear: { gradient: anchors.finetune, center: thetaSaved } } : {}),
          ...signal,
        };
        fin = await minimizeLbfgs(
          stageObjective(p.finetune.loss, finTheta, p.finetune.train, p.finetune.train.count, finTerms, st.proximal.finetune, thetaSaved),
          finTheta.projectFrom(finAll, startFin),
          lbfgs('finetune'),
        );
        setBlockValues(finTheta, fin.x);
      } else {
        // Case 2: the proximal surrogate α‖W − W̄′‖² + F(W, Θ) over (W, Θ).
        const finTerms: ObjectiveTerms = {
          proximal: [{ weight: p.alpha, positions: this.wInFinetune, center: wBar }],
          ...(anchors ? { linear: { gradient: anchors.finetune, center: this.savedFinetune } } : {}),
          ...signal,
        };
        fin = await minimizeLbfgs(stageObjective(p.finetune.loss, finAll, p.finetune.train, p.finetune.train.count, finTerms, st.proximal.finetune, this.savedFinetune), startFin, lbfgs('finetune'));
        setBlockValues(finAll, fin.x);
      }
      const end = { pretrain: Float64Array.from(pre.x), finetune: finAll.values() };
      const testLoss = this.testLossNow();
      const testLossChange = await lossChange(p.finetune.loss, finAll, p.test, o.reference ?? this.savedFinetune, end.finetune, o.signal);
      return { testLoss, testLossChange, pretrain: stageRun(pre), finetune: stageRun(fin), end };
    } finally {
      this.restore();
    }
  }

  /** Puts both models back at their saved weights. */
  restore(): void {
    setBlockValues(this.blocks.preAll, this.savedPretrain);
    setBlockValues(this.blocks.finAll, this.savedFinetune);
  }

  private testLossNow(): number {
    return summedLoss(this.problem.finetune.model, this.problem.finetune.loss, this.problem.test);
  }
}

/**
 * ‖∇‖ rose above this multiple of its start during a run that resolves a perturbation: on a
 * locally convex objective L-BFGS brings ‖∇‖ down from a small start (a leave-one-out run
 * at or near its minimiser's neighbourhood); a rise this large means the run is descending
 * away from a saddle (the Hessian plus damping is indefinite at the start) to some other
 * minimum, and its change measures that minimum, not the response.
 */
export const LEFT_START_FACTOR = 10;

/**
 * Whether a stage run that started near its minimiser went elsewhere: ‖∇‖ rose above
 * {@link LEFT_START_FACTOR} × its start and × `floor` (a level below which rises are
 * round-off: the gradient tolerance).
 */
export function leftStart(r: StageRun, floor = 0): boolean {
  return r.initialGradientNorm > 0 && r.maxGradientNorm > LEFT_START_FACTOR * Math.max(r.initialGradientNorm, floor);
}

function stageRun(r: Awaited<ReturnType<typeof minimizeLbfgs>>): StageRun {
  return {
    iterations: r.iterations,
    evaluations: r.evaluations,
    initialGradientNorm: r.initialGradientNorm,
    maxGradientNorm: r.maxGradientNorm,
    gradientNorm: r.gradientNorm,
    objective: r.value,
    converged: r.converged,
    stop: r.stop,
  };
}
