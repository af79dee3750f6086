/**
 * The reference's dense solvers against closed forms. Tolerances are relative to the
 * solution's scale: 1e-12 for well-conditioned systems (κ ≤ 100 here, so backward-stable
 * LU/Cholesky err by ~κ·1e-16), 1e-13 for eigenvalues of a symmetric matrix (Jacobi is
 * backward stable: errors ~n·ε·‖A‖).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { choleskySolve, DampedInverse, luFactor, luSolve, matMul, matVec, symmetricEigenvalues } from '../../reference/denseLinearAlgebra';
import { SeededRandom } from '../../fixtures/seededRandom';

/** The n×n second-difference matrix tridiag(−1, 2, −1): eigenvalues 2 − 2cos(kπ/(n+1)). */
function secondDifference(n: number): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = 2;
    if (i > 0) a[i * n + i - 1] = -1;
    if (i < n - 1) a[i * n + i + 1] = -1;
  }
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('dense linear algebra', () => {
  it('LU with pivoting solves a system that needs a row swap', () => {
    // [[0, 2], [3, 1]] x = [4, 5]  ⇒  x = [1, 2]
    const x = luSolve(luFactor(Float64Array.of(0, 2, 3, 1), 2), [4, 5]);
    assert.ok(maxAbsDiff(x, [1, 2]) <= 1e-15);
    assert.throws(() => luFactor(Float64Array.of(1, 2, 2, 4), 2), /singular/);
  });

  it('LU and Cholesky solve A x = b for a random SPD matrix; Cholesky refuses an indefinite one', () => {
    const rng = new SeededRandom(2);
    const n = 12;
    const m = Float64Array.from({ length: n * n }, () => rng.normal());
    const a = matMul(m, Float64Array.from(m, (_, k) => m[(k % n) * n + Math.floor(k / n)] as number), n);
    for (let i = 0; i < n; i++) a[i * n + i] = (a[i * n + i] as number) + n;
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const b = matVec(a, n, n, x);
    assert.ok(maxAbsDiff(luSolve(luFactor(a, n), b), x) <= 1e-12);
    assert.ok(maxAbsDiff(choleskySolve(a, n, b) as Float64Array, x) <= 1e-12);
    assert.equal(choleskySolve(Float64Array.of(1, 2, 2, 1), 2, [1, 1]), null);
  });

  it('Jacobi eigenvalues of the second-difference matrix', () => {
    const n = 20;
    const expected = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
    assert.ok(maxAbsDiff(symmetricEigenvalues(secondDifference(n), n), expected) <= 1e-13);
  });

  it('DampedInverse: plain is (H + λI)⁻¹b, squared is (H² + λI)⁻¹Hb (eq. 16)', () => {
    // H = diag(2, −1) (indefinite), b = (1, 1), λ = 0.5:
    // plain = (1/2.5, 1/(−0.5)) = (0.4, −2); squared = (2/4.5, −1/1.5).
    const h = Float64Array.of(2, 0, 0, -1);
    assert.ok(maxAbsDiff(new DampedInverse(h, 2, 0.5, 'plain').apply([1, 1]), [0.4, -2]) <= 1e-15);
    assert.ok(maxAbsDiff(new DampedInverse(h, 2, 0.5, 'squared').apply([1, 1]), [2 / 4.5, -1 / 1.5]) <= 1e-15);
  });
});
