/**
 * Conjugate gradient and the exact eigen solver against Gaussian elimination, for both
 * damping forms, including an indefinite H.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { solveDamped, type SymmetricOperator } from '../../../src/engine/linalg/conjugateGradient';
import { eigenSolve, symmetricEigen } from '../../../src/engine/linalg/symmetricEigen';
import { seededRandom } from '../../../src/engine/influence/sampling';

/** Dense n×n symmetric matrix with the given eigenvalues and a random orthogonal basis. */
function symmetricWithSpectrum(eigs: number[], seed: number): Float64Array {
  const n = eigs.length;
  const r = seededRandom(seed);
  // Random orthogonal Q by Gram–Schmidt on a random matrix.
  const q: number[][] = [];
  for (let k = 0; k < n; k++) {
    let v = Array.from({ length: n }, () => r() - 0.5);
    for (const u of q) {
      const d = v.reduce((s, x, i) => s + x * (u[i] as number), 0);
      v = v.map((x, i) => x - d * (u[i] as number));
    }
    const nv = Math.hypot(...v);
    q.push(v.map((x) => x / nv));
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = eigs.reduce((s, e, k) => s + e * (q[k]?.[i] as number) * (q[k]?.[j] as number), 0);
  return a;
}

function matVec(a: Float64Array, x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (a[i * n + j] as number) * (x[j] as number);
    out[i] = s;
  }
  return out;
}

/** Gaussian elimination with partial pivoting: the independent direct solve. */
function gaussSolve(a: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  const m = Array.from({ length: n }, (_, i) => [...a.subarray(i * n, (i + 1) * n), b[i] as number]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]?.[c] as number) > Math.abs(m[p]?.[c] as number)) p = r;
    [m[c], m[p]] = [m[p] as number[], m[c] as number[]];
    const row = m[c] as number[];
    for (let r = c + 1; r < n; r++) {
      const rr = m[r] as number[];
      const f = (rr[c] as number) / (row[c] as number);
      for (let k = c; k <= n; k++) rr[k] = (rr[k] as number) - f * (row[k] as number);
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    const row = m[r] as number[];
    let s = row[n] as number;
    for (let k = r + 1; k < n; k++) s -= (row[k] as number) * (x[k] as number);
    x[r] = s / (row[r] as number);
  }
  return x;
}

function damped(a: Float64Array, n: number, lambda: number, squared: boolean): Float64Array {
  const base = squared ? square(a, n) : Float64Array.from(a);
  for (let i = 0; i < n; i++) base[i * n + i] = (base[i * n + i] as number) + lambda;
  return base;
}

function square(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += (a[i * n + k] as number) * (a[k * n + j] as number);
    out[i * n + j] = s;
  }
  return out;
}

function relErr(x: Float64Array, y: Float64Array): number {
  let num = 0;
  let den = 0;
  x.forEach((v, i) => {
    num += (v - (y[i] as number)) ** 2;
    den += (y[i] as number) ** 2;
  });
  return Math.sqrt(num / den);
}

const operator = (a: Float64Array, n: number): SymmetricOperator => ({ dimension: n, apply: async (v) => matVec(a, v) });

describe('damped inverse-Hessian-vector products', () => {
  const n = 30;
  const spd = symmetricWithSpectrum(Array.from({ length: n }, (_, i) => 0.05 + (i * 9.95) / (n - 1)), 1);
  const indefinite = symmetricWithSpectrum(Array.from({ length: n }, (_, i) => -0.3 + (i * 5.3) / (n - 1)), 2);
  const r = seededRandom(3);
  const b = Float64Array.from({ length: n }, () => r() - 0.5);

  for (const [name, h, lambda] of [
    ['SPD H', spd, 0.01],
    ['indefinite H, λ large enough', indefinite, 0.5],
  ] as const) {
    it(`CG, plain form, ${name}: matches Gaussian elimination (tol 1e-8)`, async () => {
      const res = await solveDamped(operator(h, n), b, lambda, 'plain', { maxIterations: 200, tolerance: 1e-12 });
      const direct = gaussSolve(damped(h, n, lambda, false), b);
      // Float64 CG to a 1e-12 residual on a system of condition ≤ 1000: error ≤ 1e-9.
      assert.ok(relErr(res.x, direct) < 1e-8, `rel err ${relErr(res.x, direct)}`);
      assert.equal(res.negativeCurvatureAt, null);
      assert.ok(res.converged);
      assert.ok(res.relativeResidual < 1e-10);
    });
  }

  for (const [name, h] of [
    ['SPD H', spd],
    ['indefinite H', indefinite],
  ] as const) {
    it(`CG, squared form (eq. 16), ${name}: matches (H²+λI)⁻¹Hb by elimination`, async () => {
      const lambda = 0.01;
      const res = await solveDamped(operator(h, n), b, lambda, 'squared', { maxIterations: 300, tolerance: 1e-12 });
      const direct = gaussSolve(damped(h, n, lambda, true), matVec(h, b));
      assert.ok(relErr(res.x, direct) < 1e-7, `rel err ${relErr(res.x, direct)}`);
      assert.ok(res.converged);
    });
  }

  it('CG detects negative curvature of an indefinite H + λI and says when', async () => {
    // With λ = 0.01 the smallest eigenvalue of H + λI is −0.29: CG must not claim success.
    const res = await solveDamped(operator(indefinite, n), b, 0.01, 'plain', { maxIterations: 200, tolerance: 1e-12 });
    assert.notEqual(res.negativeCurvatureAt, null);
    assert.equal(res.converged, false);
  });

  it('CG stops at the iteration cap and reports an unconverged residual', async () => {
    const res = await solveDamped(operator(spd, n), b, 1e-3, 'plain', { maxIterations: 3, tolerance: 1e-12 });
    assert.equal(res.iterations, 3);
    assert.equal(res.residuals.length, 3);
    assert.equal(res.converged, false);
    assert.ok(res.relativeResidual > 1e-6);
  });

  it('v = 0 gives x = 0 at once', async () => {
    const res = await solveDamped(operator(spd, n), new Float64Array(n), 0.01, 'plain', { maxIterations: 10, tolerance: 1e-8 });
    assert.equal(res.iterations, 0);
    assert.ok(res.x.every((v) => v === 0));
  });

  it('a NaN in b is a numeric error, not a result', async () => {
    const bad = Float64Array.from(b);
    bad[3] = NaN;
    await assert.rejects(solveDamped(operator(spd, n), bad, 0.01, 'plain', { maxIterations: 10, tolerance: 1e-8 }), /not finite/);
  });

  it('cancellation stops CG between iterations', async () => {
    const ac = new AbortController();
    const slow: SymmetricOperator = {
      dimension: n,
      apply: async (v) => {
        ac.abort();
        return matVec(spd, v);
      },
    };
    await assert.rejects(solveDamped(slow, b, 0.01, 'plain', { maxIterations: 100, tolerance: 1e-12, signal: ac.signal }), /cancelled/);
  });

  it('the eigen solver reproduces the spectrum and both damped inverses', () => {
    const e = symmetricEigen(indefinite, n);
    // Eigenvalues were placed at −0.3 … 5.0 exactly; Jacobi is accurate to ~1e-13·‖H‖.
    assert.ok(Math.abs((e.values[0] as number) + 0.3) < 1e-10);
    assert.ok(Math.abs((e.values[n - 1] as number) - 5.0) < 1e-10);
    const plain = eigenSolve(e, b, 0.5, 'plain');
    assert.ok(relErr(plain, gaussSolve(damped(indefinite, n, 0.5, false), b)) < 1e-10);
    const sq = eigenSolve(e, b, 0.01, 'squared');
    assert.ok(relErr(sq, gaussSolve(damped(indefinite, n, 0.01, true), matVec(indefinite, b))) < 1e-9);
  });
});
