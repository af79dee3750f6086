/**
 * Damped inverse-Hessian-vector products by conjugate gradient (CG).
 */
import type { DampingForm } from '../../common/workspaceConfig';
import { MsifError } from '../../common/errors';
import { throwIfAborted } from '../cancel';
import { axpy, combine, dot, norm } from './vector';

/** A symmetric linear map x ↦ H x, evaluated asynchronously (it streams batches). */
export interface SymmetricOperator {
  readonly dimension: number;
  apply(v: Float64Array, signal?: AbortSignal): Promise<Float64Array>;
}

export interface CgOptions {
  readonly maxIterations: number;
  /** Stop when ‖b − A x‖ / ‖b‖ ≤ tolerance (A the damped system). */
  readonly tolerance: number;
  readonly signal?: AbortSignal;
  readonly onIteration?: (iteration: number, relativeResidual: number) => void;
}

export interface CgResult {
  readonly x: Float64Array;
  readonly iterations: number;
  /** Recursive relative residual after each iteration. */
  readonly residuals: number[];
  /** True ‖b − A x‖ / ‖b‖ at the returned x (one extra product). */
  readonly relativeResidual: number;
  readonly converged: boolean;
  /** First iteration (1-based) where pᵀ A p ≤ 0 stopped CG, or null. */
  readonly negativeCurvatureAt: number | null;
}

/**
 * Solves the damped system for an inverse-Hessian-vector product.
 *
 * ```tex
 * \text{plain:}\quad (H + \lambda I)\,x = b \qquad\qquad \text{squared (eq. 16):}\quad (H^2 + \lambda I)\,x = H b
 * ```
 *
 * ## Method
 * Conjugate gradient (Hestenes–Stiefel) from x₀ = 0 on A = H + λI or A = H² + λI (two
 * products of H per iteration), state in float64.
 *
 * ## Notes
 * Stops at `maxIterations`, at the residual `tolerance`, or when pᵀAp ≤ 0: then A is not
 * positive definite along p (an indefinite H with too little damping), the current iterate
 * is returned and `negativeCurvatureAt` says so. The squared form is always positive
 * definite, but it is a different estimator: λ on H² damps every eigenvalue below √λ
 * (../shared/notes/influence-facts.md). Symbols: λ → `damping`, H → `hessian`.
 */
export async function solveDamped(hessian: SymmetricOperator, b: Float64Array, damping: number, form: DampingForm, o: CgOptions): Promise<CgResult> {
  const apply = async (v: Float64Array): Promise<Float64Array> => {
    const hv = await hessian.apply(v, o.signal);
    const av = form === 'plain' ? hv : await hessian.apply(hv, o.signal);
    return axpy(damping, v, av);
  };
  const rhs = form === 'plain' ? b : await hessian.apply(b, o.signal);
  return conjugateGradient(apply, rhs, o);
}

/** CG on a symmetric operator A given as a function; see {@link solveDamped}. */
export async function conjugateGradient(applyA: (v: Float64Array) => Promise<Float64Array>, b: Float64Array, o: CgOptions): Promise<CgResult> {
  const n = b.length;
  const bNorm = norm(b);
  let x: Float64Array = new Float64Array(n);
  if (!Number.isFinite(bNorm)) {
    throw new MsifError('numeric', 'the right-hand side of an inverse-Hessian-vector product is not finite (NaN or infinite gradients)', {
      expected: 'finite weights, inputs and losses',
    });
  }
  if (bNorm === 0) {
    return { x, iterations: 0, residuals: [], relativeResidual: 0, converged: true, negativeCurvatureAt: null };
  }
  let r: Float64Array = Float64Array.from(b);
  let p: Float64Array = Float64Array.from(b);
  let rr = dot(r, r);
  const residuals: number[] = [];
  let negativeCurvatureAt: number | null = null;
  let it = 0;
  while (it < o.maxIterations) {
    throwIfAborted(o.signal);
    const ap = await applyA(p);
    const pap = dot(p, ap);
    if (!(pap > 0)) {
      negativeCurvatureAt = it + 1;
      break;
    }
    const alpha = rr / pap;
    x = axpy(alpha, p, x);
    r = axpy(-alpha, ap, r);
    const rrNew = dot(r, r);
    it++;
    const rel = Math.sqrt(rrNew) / bNorm;
    residuals.push(rel);
    o.onIteration?.(it, rel);
    if (rel <= o.tolerance) break;
    p = combine(1, r, rrNew / rr, p);
    rr = rrNew;
  }
  throwIfAborted(o.signal);
  const trueResidual = norm(combine(1, b, -1, await applyA(x))) / bNorm;
  return {
    x,
    iterations: it,
    residuals,
    relativeResidual: trueResidual,
    converged: negativeCurvatureAt === null && trueResidual <= Math.max(o.tolerance, 1e-12) * 10,
    negativeCurvatureAt,
  };
}
