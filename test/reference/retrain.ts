/**
 * Ground truth for the influence formulas: up-weight one pretraining example, re-solve
 * both stages to a tight gradient tolerance in float64, and measure the test loss.
 * Also the float64 trainers the tiny fixtures are built with.
 */
import { choleskySolve, gather, norm } from './denseLinearAlgebra';
import type { Evaluation, ReferenceExample, ReferenceNet } from './float64Net';
import type { ReferenceWorkspace } from './referenceWorkspace';

/** An objective: its value (order 0), or value, gradient and Hessian (order 2). */
export type Objective = (x: Float64Array, order: 0 | 2) => Evaluation;

/** Stopping rule of {@link newtonMinimize}. */
export interface NewtonOptions {
  /** Stop once ‖∇‖₂ is below this (default 1e-11). */
  readonly gradientTolerance?: number;
  /** Give up (throw) after this many accepted or rejected steps (default 1000). */
  readonly maxIterations?: number;
  /** Give up (throw) as soon as an accepted iterate has a |θᵢ| above this (default ∞). */
  readonly maxAbsParam?: number;
}

/** A converged minimiser. */
export interface NewtonResult {
  readonly params: Float64Array;
  readonly value: number;
  readonly gradientNorm: number;
  readonly iterations: number;
}

/**
 * Minimises a smooth objective by Newton's method with Levenberg–Marquardt safeguarding.
 *
 * ```tex
 * d = -(\nabla^2 L(x) + \mu I)^{-1}\nabla L(x)
 * ```
 * ## Method
 * A step is accepted when it lowers L (or, within rounding of L, lowers ‖∇L‖); then μ
 * shrinks tenfold, else it grows tenfold. μ never goes below 1e-10, which keeps the
 * Cholesky solve defined on the exact null space that softmax cross-entropy has (a shift
 * of all logits changes nothing); gradients are orthogonal to that null space, so the
 * floor costs nothing but a factor ≈ 1e-10/λ_min per step in the convergence rate.
 *
 * ## Notes
 * Throws when ‖∇L‖ < `gradientTolerance` is not reached in `maxIterations` steps, or when
 * an iterate leaves the box |θᵢ| ≤ `maxAbsParam` (a minimiser at infinity, e.g. a tanh
 * unit sharpening into a step to isolate a pure region of a cross-entropy problem).
 */
export function newtonMinimize(objective: Objective, start: Float64Array, options: NewtonOptions = {}): NewtonResult {
  const tol = options.gradientTolerance ?? 1e-11;
  const maxIterations = options.maxIterations ?? 1000;
  const maxAbs = options.maxAbsParam ?? Infinity;
  const n = start.length;
  let x = Float64Array.from(start);
  let e = objective(x, 2);
  let g = e.gradient as Float64Array;
  let gn = norm(g);
  let mu = 1e-3;
  const muMin = 1e-10;
  for (let it = 0; it < maxIterations; it++) {
    if (gn < tol) return { params: x, value: e.value, gradientNorm: gn, iterations: it };
    const a = Float64Array.from(e.hessian as Float64Array);
    for (let i = 0; i < n; i++) a[i * n + i] = (a[i * n + i] as number) + mu;
    const d = choleskySolve(a, n, g.map((v) => -v));
    if (d === null) {
      mu *= 10;
      continue;
    }
    const candidate = x.map((v, i) => v + (d[i] as number));
    const value = objective(candidate, 0).value;
    const roundoff = 4 * Number.EPSILON * Math.max(1, Math.abs(e.value));
    if (Number.isFinite(value) && value <= e.value + roundoff) {
      const next = objective(candidate, 2);
      const nextG = next.gradient as Float64Array;
      const nextGn = norm(nextG);
      if (value < e.value || nextGn < gn) {
        x = candidate;
        if (x.some((v) => Math.abs(v) > maxAbs)) throw new Error(`Newton/LM diverged: |θᵢ| exceeded ${maxAbs} after ${it + 1} steps`);
        e = next;
        g = nextG;
        gn = nextGn;
        mu = Math.max(mu / 10, muMin);
        continue;
      }
    }
    mu *= 10;
  }
  if (gn < tol) return { params: x, value: e.value, gradientNorm: gn, iterations: maxIterations };
  throw new Error(`Newton/LM did not reach ‖∇‖ < ${tol} in ${maxIterations} steps (‖∇‖ = ${gn.toExponential(3)}, μ = ${mu.toExponential(1)})`);
}

/** Up-weighting of one pretraining example: the objective becomes G + ε·g(z). */
export interface Upweight {
  readonly index: number;
  readonly epsilon: number;
}

/**
 * argmin over (W, U) of G(W,U) + ε·g(z; W,U), G the mean pretraining loss, by
 * {@link newtonMinimize} from `start`.
 */
export function trainPretrainingToConvergence(
  net: ReferenceNet,
  examples: readonly ReferenceExample[],
  start: Float64Array,
  options: NewtonOptions & { readonly upweight?: Upweight } = {},
): NewtonResult {
  const weights = new Float64Array(examples.length).fill(1 / examples.length);
  const up = options.upweight;
  if (up !== undefined) {
    if (weights[up.index] === undefined) throw new RangeError(`pretraining example ${up.index} does not exist`);
    weights[up.index] = (weights[up.index] as number) + up.epsilon;
  }
  return newtonMinimize((x, order) => net.evaluate(x, examples, order, weights), start, options);
}

/** How the finetuning stage treats W (contract §1). */
export type FinetuneProblem =
  | { readonly case: 'fixed' }
  | {
      readonly case: 'updated';
      /** W̄, the pretrained shared weights the surrogate is anchored at, in `sharedIndices` order. */
      readonly anchor: Float64Array;
      readonly alpha: number;
    };

/**
 * The finetuning solution, by {@link newtonMinimize} from `start`:
 * Case 1 (`fixed`): Θ = argmin_Θ F(W, Θ), W held at its value in `start`;
 * Case 2 (`updated`): (W, Θ) = argmin α‖W − W̄‖² + F(W, Θ) (the proximal surrogate of eq. 13).
 * `sharedIndices` are W's positions in the finetuning θ.
 */
export function trainFinetuningToConvergence(
  net: ReferenceNet,
  examples: readonly ReferenceExample[],
  start: Float64Array,
  sharedIndices: readonly number[],
  problem: FinetuneProblem,
  options: NewtonOptions = {},
): NewtonResult {
  const P = net.paramCount;
  if (problem.case === 'fixed') {
    const shared = new Set(sharedIndices);
    const free = Array.from({ length: P }, (_, i) => i).filter((i) => !shared.has(i));
    const full = Float64Array.from(start);
    const embed = (sub: Float64Array): Float64Array => {
      free.forEach((p, i) => (full[p] = sub[i] as number));
      return full;
    };
    const result = newtonMinimize(
      (sub, order) => {
        const e = net.evaluate(embed(sub), examples, order);
        if (order === 0) return e;
        const h = e.hessian as Float64Array;
        const k = free.length;
        const hs = new Float64Array(k * k);
        free.forEach((r, i) => free.forEach((c, j) => (hs[i * k + j] = h[r * P + c] as number)));
        return { value: e.value, gradient: gather(e.gradient as Float64Array, free), hessian: hs };
      },
      gather(start, free),
      options,
    );
    return { ...result, params: Float64Array.from(embed(result.params)) };
  }
  const { anchor, alpha } = problem;
  if (anchor.length !== sharedIndices.length) throw new RangeError('anchor must hold one value per shared parameter');
  return newtonMinimize((x, order) => {
    const e = net.evaluate(x, examples, order);
    let value = e.value;
    sharedIndices.forEach((p, i) => {
      const r = (x[p] as number) - (anchor[i] as number);
      value += alpha * r * r;
      if (order === 2) {
        const g = e.gradient as Float64Array;
        const h = e.hessian as Float64Array;
        g[p] = (g[p] as number) + 2 * alpha * r;
        h[p * P + p] = (h[p * P + p] as number) + 2 * alpha;
      }
    });
    return { ...e, value };
  }, start, options);
}

/** Which retraining to run. */
export interface RetrainOptions extends NewtonOptions {
  readonly pretrainIndex: number;
  readonly epsilon: number;
  readonly testIndices: readonly number[];
  /** Overrides `finetune.embedding`. */
  readonly case?: 'fixed' | 'updated';
  /** Overrides the workspace's α (Case 2). */
  readonly alpha?: number;
}

/**
 * Σ_t f(xt) after re-solving both stages with pretraining example z up-weighted by ε:
 * W̄_ε, Ū_ε = argmin G + ε·g(z) (from the saved pretraining weights); then Case 1:
 * Θ = argmin F(W̄_ε, Θ); Case 2: (W, Θ) = argmin α‖W − W̄_ε‖² + F(W, Θ) (from the saved
 * finetuning weights).
 */
export function retrainedTestLoss(ws: ReferenceWorkspace, options: RetrainOptions): number {
  const { pretrain, finetune } = ws;
  const pre = trainPretrainingToConvergence(pretrain.net, pretrain.train, pretrain.savedParams, {
    ...options,
    upweight: { index: options.pretrainIndex, epsilon: options.epsilon },
  });
  const wEps = gather(pre.params, ws.sharedInPretrain);
  const kase = options.case ?? ws.embedding;
  const start = Float64Array.from(finetune.savedParams);
  let fin: NewtonResult;
  if (kase === 'fixed') {
    ws.sharedInFinetune.forEach((p, i) => (start[p] = wEps[i] as number));
    fin = trainFinetuningToConvergence(finetune.net, finetune.train, start, ws.sharedInFinetune, { case: 'fixed' }, options);
  } else {
    const problem = { case: 'updated', anchor: wEps, alpha: options.alpha ?? ws.alpha } as const;
    fin = trainFinetuningToConvergence(finetune.net, finetune.train, start, ws.sharedInFinetune, problem, options);
  }
  let loss = 0;
  for (const t of options.testIndices) {
    const example = finetune.test[t];
    if (example === undefined) throw new RangeError(`test point ${t} does not exist`);
    loss += finetune.net.exampleLoss(fin.params, example);
  }
  return loss;
}

/**
 * The central difference (L(+ε) − L(−ε)) / 2ε of {@link retrainedTestLoss}: the
 * derivative that I(z, xt) (contract §1, λ → 0) predicts.
 */
export function retrainingInfluence(ws: ReferenceWorkspace, options: RetrainOptions): number {
  const plus = retrainedTestLoss(ws, options);
  const minus = retrainedTestLoss(ws, { ...options, epsilon: -options.epsilon });
  return (plus - minus) / (2 * options.epsilon);
}
