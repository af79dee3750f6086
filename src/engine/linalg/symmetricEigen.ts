/**
 * Eigen-decomposition of a small dense symmetric matrix, and damped solves through it:
 * the exact solver for models with few parameters.
 */
import type { DampingForm } from '../../common/workspaceConfig';
import { throwIfAborted } from '../cancel';

export interface Eigen {
  /** Eigenvalues, ascending. */
  readonly values: Float64Array;
  /** Eigenvectors as columns of an n×n row-major matrix, matching `values`. */
  readonly vectors: Float64Array;
  readonly n: number;
}

/**
 * H = V diag(μ) Vᵀ for symmetric H (n×n, row-major; not modified).
 *
 * ## Method
 * Cyclic Jacobi rotations until the off-diagonal mass is below 1e-30 of the total
 * (Golub & Van Loan, Matrix Computations, §8.5). O(n³) per sweep, a handful of sweeps.
 */
export function symmetricEigen(h: Float64Array, n: number, signal?: AbortSignal): Eigen {
  const a = Float64Array.from(h);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += (a[i] as number) ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    throwIfAborted(signal);
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * (a[i * n + j] as number) ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (apq === 0) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (a[i * n + i] as number) - (a[j * n + j] as number));
  const values = Float64Array.from(order, (i) => a[i * n + i] as number);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src] as number;
  });
  return { values, vectors, n };
}

/**
 * The damped inverse applied to b through the eigen-decomposition.
 *
 * ```tex
 * \text{plain: } x = V \operatorname{diag}\!\big(\tfrac{1}{\mu_k + \lambda}\big) V^\top b \qquad
 * \text{squared (eq. 16): } x = V \operatorname{diag}\!\big(\tfrac{\mu_k}{\mu_k^2 + \lambda}\big) V^\top b
 * ```
 *
 * ## Notes
 * The plain form with μ_k + λ ≤ 0 is not an inverse of a positive-definite matrix; it is
 * still computed (exactly), and the caller reports the negative eigenvalue.
 */
export function eigenSolve(e: Eigen, b: Float64Array, damping: number, form: DampingForm): Float64Array {
  return spectralApply(e, b, form === 'plain' ? (mu) => 1 / (mu + damping) : (mu) => mu / (mu * mu + damping));
}

/** f(H) b = V diag(f(μ_k)) Vᵀ b, for a function f of the eigenvalues. */
export function spectralApply(e: Eigen, b: Float64Array, f: (mu: number) => number): Float64Array {
  const { n, values, vectors } = e;
  const coef = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (vectors[i * n + k] as number) * (b[i] as number);
    coef[k] = s * f(values[k] as number);
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += (vectors[i * n + k] as number) * (coef[k] as number);
    x[i] = s;
  }
  return x;
}
