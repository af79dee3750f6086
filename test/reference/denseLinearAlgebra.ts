/**
 * Small dense float64 linear algebra for the reference: LU with partial pivoting,
 * Cholesky, cyclic Jacobi eigenvalues and the damped inverse of the contract (§1).
 * Matrices are n×n, row-major Float64Array.
 */

/** An LU factorisation P·A = L·U (unit-diagonal L and U packed in `lu`). */
export interface LuFactors {
  readonly n: number;
  readonly lu: Float64Array;
  readonly pivots: Int32Array;
}

/**
 * Factors A with partial pivoting (Doolittle). Throws if a pivot is exactly zero
 * (A singular to working precision).
 */
export function luFactor(a: Float64Array, n: number): LuFactors {
  checkSquare(a, n);
  const lu = Float64Array.from(a);
  const pivots = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k] as number);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k] as number);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best === 0) throw new Error(`matrix is singular (zero pivot in column ${k})`);
    pivots[k] = p;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j] as number;
        lu[k * n + j] = lu[p * n + j] as number;
        lu[p * n + j] = t;
      }
    }
    const pivot = lu[k * n + k] as number;
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k] as number) / pivot;
      lu[i * n + k] = f;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j] = (lu[i * n + j] as number) - f * (lu[k * n + j] as number);
    }
  }
  return { n, lu, pivots };
}

/** Solves A x = b from {@link luFactor}'s factors. */
export function luSolve(f: LuFactors, b: ArrayLike<number>): Float64Array {
  const { n, lu, pivots } = f;
  if (b.length !== n) throw new RangeError(`right-hand side has length ${b.length}, expected ${n}`);
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    const p = pivots[k] as number;
    if (p !== k) {
      const t = x[k] as number;
      x[k] = x[p] as number;
      x[p] = t;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = x[i] as number;
    for (let j = 0; j < i; j++) s -= (lu[i * n + j] as number) * (x[j] as number);
    x[i] = s;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i] as number;
    for (let j = i + 1; j < n; j++) s -= (lu[i * n + j] as number) * (x[j] as number);
    x[i] = s / (lu[i * n + i] as number);
  }
  return x;
}

/**
 * Solves A x = b for symmetric A by Cholesky (A = L Lᵀ), reading the lower triangle.
 * Returns null when A is not numerically positive definite.
 */
export function choleskySolve(a: Float64Array, n: number, b: ArrayLike<number>): Float64Array | null {
  checkSquare(a, n);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / (l[j * n + j] as number);
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (y[k] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  return y;
}

/**
 * All eigenvalues of the symmetric matrix ½(A + Aᵀ), ascending, by the cyclic Jacobi
 * method (rotations until the off-diagonal mass is below 1e-15 of the total).
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  checkSquare(a, n);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = 0.5 * ((a[i * n + j] as number) + (a[j * n + i] as number));
  let total = 0;
  for (let i = 0; i < n * n; i++) total += (m[i] as number) ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * (m[i * n + j] as number) ** 2;
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q] as number;
        if (apq === 0) continue;
        const app = m[p * n + p] as number;
        const aqq = m[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p] as number;
          const mkq = m[k * n + q] as number;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k] as number;
          const mqk = m[q * n + k] as number;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
      }
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = m[i * n + i] as number;
  return out.sort();
}

/** The damping forms of the contract: `plain` (H + λI)⁻¹, `squared` (H² + λI)⁻¹H (eq. 16). */
export type DampingForm = 'plain' | 'squared';

/**
 * The damped inverse of a symmetric H, factored once and applied to many vectors.
 *
 * ```tex
 * \text{plain: } x = (H + \lambda I)^{-1} b, \qquad
 * \text{squared (eq. 16): } x = (H^2 + \lambda I)^{-1} H b
 * ```
 * Both are symmetric operators (functions of H), so Hessian-inverse products may be
 * moved across dot products.
 */
export class DampedInverse {
  private readonly factors: LuFactors;

  constructor(
    private readonly h: Float64Array,
    private readonly n: number,
    readonly damping: number,
    readonly form: DampingForm,
  ) {
    checkSquare(h, n);
    const m = form === 'plain' ? Float64Array.from(h) : matMul(h, h, n);
    for (let i = 0; i < n; i++) m[i * n + i] = (m[i * n + i] as number) + damping;
    this.factors = luFactor(m, n);
  }

  /** The damped inverse applied to b. */
  apply(b: ArrayLike<number>): Float64Array {
    return luSolve(this.factors, this.form === 'plain' ? b : matVec(this.h, this.n, this.n, b));
  }
}

/** A v for a rows×cols A. */
export function matVec(a: Float64Array, rows: number, cols: number, v: ArrayLike<number>): Float64Array {
  if (a.length !== rows * cols || v.length !== cols) throw new RangeError(`cannot multiply ${rows}×${cols} by a vector of length ${v.length}`);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += (a[i * cols + j] as number) * (v[j] as number);
    out[i] = s;
  }
  return out;
}

/** A B for n×n A, B. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) + aik * (b[k * n + j] as number);
    }
  }
  return out;
}

/** The submatrix A[rows, cols] of an n×n A, row-major. */
export function subMatrix(a: Float64Array, n: number, rows: readonly number[], cols: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => (out[i * cols.length + j] = a[r * n + c] as number)));
  return out;
}

/** v[indices]. */
export function gather(v: ArrayLike<number>, indices: readonly number[]): Float64Array {
  return Float64Array.from(indices, (i) => v[i] as number);
}

/** aᵀ b. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`dot of lengths ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** ‖v‖₂. */
export function norm(v: ArrayLike<number>): number {
  return Math.sqrt(dot(v, v));
}

function checkSquare(a: Float64Array, n: number): void {
  if (a.length !== n * n) throw new RangeError(`matrix has ${a.length} entries, expected ${n}×${n}`);
}
