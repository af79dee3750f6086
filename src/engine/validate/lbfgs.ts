/**
 * Deterministic full-batch minimisation by limited-memory BFGS, state in float64 on the
 * host (like CG): the optimizer of the leave-one-out retraining check.
 */
import { throwIfAborted } from '../cancel';
import { axpy, dot, norm } from '../linalg/vector';

/** A smooth objective: its value and gradient at x (one full pass over the data). */
export type SmoothObjective = (x: Float64Array) => Promise<{ value: number; gradient: Float64Array }>;

export interface LbfgsOptions {
  /** Stop once ‖∇L‖₂ ≤ this (and ≤ relativeTolerance · ‖∇L(x₀)‖, when given). */
  readonly gradientTolerance: number;
  /**
   * Go on until ‖∇L‖ ≤ this fraction of the starting gradient norm too (or the line search
   * meets round-off): a start already near the minimiser (a small perturbation of a solved
   * problem) must still be resolved, not accepted as it is because its gradient happens to
   * be below the absolute tolerance. `converged` still means ‖∇L‖ ≤ gradientTolerance.
   */
  readonly relativeTolerance?: number;
  /** Stop after this many accepted steps. */
  readonly maxIterations: number;
  /**
   * ‖∇L‖ at or below this ends the run as converged whatever the other tolerances say: the
   * round-off level of the gradient, below which no step can be judged (default 0).
   */
  readonly roundoffFloor?: number;
  /**
   * Stop (`stalled`) once this many steps in a row found no iterate with ‖∇L‖ below 0.99 ×
   * the smallest so far: on a kink (max pooling's switch of maximiser) or at round-off, more
   * steps only cost time. Default: never.
   */
  readonly stallIterations?: number;
  /** Curvature pairs kept (m of L-BFGS). Default 10. */
  readonly memory?: number;
  /** Objective evaluations allowed per line search. Default 30. */
  readonly maxLineSearch?: number;
  /**
   * Relative round-off of the objective's values (default 1e-6, as in Hager & Zhang's
   * CG_DESCENT): within it, steps are judged by the gradient alone.
   */
  readonly valueRoundoff?: number;
  readonly signal?: AbortSignal;
  readonly onIteration?: (iteration: number, value: number, gradientNorm: number) => void;
}

/** Why the minimiser stopped. */
export type LbfgsStop = 'converged' | 'max-iterations' | 'line-search' | 'stalled';

export interface LbfgsResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly gradientNorm: number;
  /** ‖∇L‖ at the start. */
  readonly initialGradientNorm: number;
  /** The largest ‖∇L‖ over the iterates (the start included). */
  readonly maxGradientNorm: number;
  readonly iterations: number;
  /** Objective (value + gradient) evaluations, the start included. */
  readonly evaluations: number;
  readonly stop: LbfgsStop;
  readonly converged: boolean;
}

/** Sufficient-decrease and curvature constants of the weak Wolfe conditions. */
const C1 = 1e-4;
const C2 = 0.9;

/**
 * Minimises L from x₀ by L-BFGS with a weak-Wolfe line search.
 *
 * ```tex
 * x_{k+1} = x_k + t_k d_k,\quad d_k = -H_k \nabla L(x_k),\quad
 * L(x_k + t d_k) \le L(x_k) + c_1 t\, \nabla L_k^\top d_k,\quad \nabla L(x_k + t d_k)^\top d_k \ge c_2 \nabla L_k^\top d_k
 * ```
 *
 * ## Method
 * H_k is the two-loop recursion over the last `memory` pairs (s, y) with the initial
 * scaling γ = sᵀy / yᵀy (Nocedal & Wright, Numerical Optimization, Alg. 7.4). The line
 * search brackets by doubling and bisection (Lewis & Overton's weak-Wolfe search), first
 * trial t = 1, or t = 1/‖∇L‖ on the first step; where values differ by round-off only it
 * uses the approximate Wolfe conditions, so that float32-evaluated objectives still
 * converge in the gradient. A pair is stored only when sᵀy > 0, so
 * H_k stays positive definite and d_k a descent direction.
 *
 * ## Notes
 * Deterministic: the same objective and start give the same iterates. Stops when
 * ‖∇L‖ ≤ max(min(`gradientTolerance`, `relativeTolerance`·‖∇L(x₀)‖), `roundoffFloor`) (stop
 * `converged`), after `maxIterations` steps, after `stallIterations` steps without progress
 * (`stalled`), or when no step
 * along d_k, nor then along −∇L with the memory cleared, lowers L (line search failed: a
 * kink of L, or the float32 round-off of L and ∇L, is reached).
 * In the last case the best point so far is returned, flagged not converged unless its
 * gradient meets the tolerance.
 */
export async function minimizeLbfgs(objective: SmoothObjective, x0: Float64Array, o: LbfgsOptions): Promise<LbfgsResult> {
  const memory = o.memory ?? 10;
  const maxLineSearch = o.maxLineSearch ?? 30;
  let x: Float64Array = Float64Array.from(x0);
  let { value, gradient } = await objective(x);
  let evaluations = 1;
  if (!Number.isFinite(value)) throw new RangeError(`the objective is not finite at the start (${value})`);
  let gn = norm(gradient);
  const initialGradientNorm = gn;
  const tolerance = Math.max(Math.min(o.gradientTolerance, (o.relativeTolerance ?? Infinity) * initialGradientNorm), o.roundoffFloor ?? 0);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  let iterations = 0;
  let stop: LbfgsStop = 'max-iterations';
  // Past the absolute tolerance (going on to the relative one), ‖∇L‖ need not fall at every
  // step: the iterate with the smallest gradient norm is the answer.
  let best = { x: Float64Array.from(x), value, gn };
  let maxGradientNorm = gn;
  let sinceBest = 0;
  while (true) {
    if (gn <= tolerance) {
      stop = 'converged';
      break;
    }
    if (iterations >= o.maxIterations) break;
    throwIfAborted(o.signal, 'retraining');
    let d = twoLoopDirection(gradient, s, y);
    let slope = dot(gradient, d);
    if (!(slope < 0)) {
      // Not a descent direction (round-off in the pairs): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      d = gradient.map((g) => -g);
      slope = -gn * gn;
    }
    const first = s.length === 0 ? Math.min(1, 1 / gn) : 1;
    let step = await weakWolfe(objective, x, value, slope, d, first, maxLineSearch, o.valueRoundoff ?? 1e-6);
    evaluations += step.evaluations;
    if (!step.accepted && s.length > 0) {
      // Stale curvature pairs (a kink, round-off): forget them and try steepest descent once.
      s.length = 0;
      y.length = 0;
      d = gradient.map((g) => -g);
      slope = -gn * gn;
      step = await weakWolfe(objective, x, value, slope, d, Math.min(1, 1 / gn), maxLineSearch, o.valueRoundoff ?? 1e-6);
      evaluations += step.evaluations;
    }
    if (!step.accepted) {
      stop = 'line-search';
      break;
    }
    const sk = d.map((v) => v * step.t);
    const yk = step.gradient.map((g, i) => g - (gradient[i] as number));
    const sy = dot(sk, yk);
    if (sy > 1e-12 * norm(sk) * norm(yk)) {
      s.push(sk);
      y.push(yk);
      if (s.length > memory) {
        s.shift();
        y.shift();
      }
    }
    x = axpy(step.t, d, x);
    value = step.value;
    gradient = step.gradient;
    gn = norm(gradient);
    maxGradientNorm = Math.max(maxGradientNorm, gn);
    iterations++;
    sinceBest = gn < 0.99 * best.gn ? 0 : sinceBest + 1;
    if (gn < best.gn) best = { x: Float64Array.from(x), value, gn }; // x is updated in place (axpy)
    o.onIteration?.(iterations, value, gn);
    if (o.stallIterations !== undefined && sinceBest >= o.stallIterations && gn > tolerance) {
      stop = 'stalled';
      break;
    }
  }
  if ((best.gn <= o.gradientTolerance || stop === 'stalled') && best.gn < gn) ({ x, value, gn } = best);
  return { x, value, gradientNorm: gn, initialGradientNorm, maxGradientNorm, iterations, evaluations, stop, converged: gn <= o.gradientTolerance };
}

/** d = −H ∇L by the L-BFGS two-loop recursion (−∇L when no pairs are stored). */
function twoLoopDirection(gradient: Float64Array, s: readonly Float64Array[], y: readonly Float64Array[]): Float64Array {
  const q = Float64Array.from(gradient);
  const k = s.length;
  const alpha = new Float64Array(k);
  const rho = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    const si = s[i] as Float64Array;
    const yi = y[i] as Float64Array;
    rho[i] = 1 / dot(yi, si);
    alpha[i] = (rho[i] as number) * dot(si, q);
    axpy(-(alpha[i] as number), yi, q);
  }
  if (k > 0) {
    const sl = s[k - 1] as Float64Array;
    const yl = y[k - 1] as Float64Array;
    const gamma = dot(sl, yl) / dot(yl, yl);
    for (let i = 0; i < q.length; i++) q[i] = (q[i] as number) * gamma;
  }
  for (let i = 0; i < k; i++) {
    const beta = (rho[i] as number) * dot(y[i] as Float64Array, q);
    axpy((alpha[i] as number) - beta, s[i] as Float64Array, q);
  }
  for (let i = 0; i < q.length; i++) q[i] = -(q[i] as number);
  return q;
}

interface LineStep {
  readonly accepted: boolean;
  readonly t: number;
  readonly value: number;
  readonly gradient: Float64Array;
  readonly evaluations: number;
}

/**
 * A step t along d meeting the weak Wolfe conditions, or near the minimiser, where values
 * differ by round-off only, Hager & Zhang's approximate Wolfe conditions:
 *
 * ```tex
 * \phi(t) \le \phi(0) + \epsilon\,|\phi(0)| \quad\text{and}\quad (2c_1 - 1)\,\phi'(0) \ge \phi'(t) \ge c_2\,\phi'(0)
 * ```
 *
 * (φ(t) = L(x + t d); SIAM J. Optim. 16, 2005). Brackets by doubling and bisection.
 * When the budget runs out, the largest trial with a lower value is accepted, if any.
 */
async function weakWolfe(
  objective: SmoothObjective,
  x: Float64Array,
  value: number,
  slope: number,
  d: Float64Array,
  first: number,
  maxEvaluations: number,
  valueRoundoff: number,
): Promise<LineStep> {
  let lo = 0;
  let hi = Infinity;
  let t = first;
  let fallback: LineStep | undefined;
  const noise = valueRoundoff * Math.abs(value);
  for (let k = 1; k <= maxEvaluations; k++) {
    const trial = axpy(t, d, Float64Array.from(x));
    const e = await objective(trial);
    const armijo = Number.isFinite(e.value) && e.value <= value + C1 * t * slope;
    const withinNoise = Number.isFinite(e.value) && e.value <= value + noise;
    if (!armijo && !withinNoise) {
      hi = t;
    } else {
      if (e.value < value) fallback = { accepted: true, t, value: e.value, gradient: e.gradient, evaluations: k };
      const slopeT = dot(e.gradient, d);
      if (slopeT < C2 * slope) lo = t;
      else if (armijo || slopeT <= (2 * C1 - 1) * slope) return { accepted: true, t, value: e.value, gradient: e.gradient, evaluations: k };
      else hi = t;
    }
    t = hi < Infinity ? 0.5 * (lo + hi) : 2 * lo;
  }
  if (fallback) return { ...fallback, evaluations: maxEvaluations };
  return { accepted: false, t: 0, value, gradient: new Float64Array(0), evaluations: maxEvaluations };
}
