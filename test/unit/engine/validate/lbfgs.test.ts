/**
 * L-BFGS against known minimisers: a quadratic (x* = A⁻¹b by Gaussian elimination),
 * L2-regularised logistic regression (x* by the reference's float64 Newton/LM with the
 * explicit Hessian), Rosenbrock's function (x* = (1, 1)); determinism and cancellation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { minimizeLbfgs, type SmoothObjective } from '../../../../src/engine/validate/lbfgs';
import { seededRandom } from '../../../../src/engine/influence/sampling';
import { CancelledError } from '../../../../src/common/errors';
import { newtonMinimize } from '../../../reference/retrain';

/** A = QΛQᵀ with eigenvalues 1 … 100 (condition number 100) and a seeded orthogonal Q. */
function spdMatrix(n: number, seed: number): Float64Array {
  const r = seededRandom(seed);
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
  const eig = Array.from({ length: n }, (_, k) => 1 + (99 * k) / (n - 1));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = eig.reduce((s, e, k) => s + e * (q[k]?.[i] as number) * (q[k]?.[j] as number), 0);
  return a;
}

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

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};

describe('minimizeLbfgs', () => {
  it('finds the minimiser of a quadratic ½xᵀAx − bᵀx (x* = A⁻¹b)', async () => {
    const n = 30;
    const a = spdMatrix(n, 3);
    const r = seededRandom(4);
    const b = Float64Array.from({ length: n }, () => r() - 0.5);
    const f: SmoothObjective = async (x) => {
      const ax = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ax[i] = (ax[i] as number) + (a[i * n + j] as number) * (x[j] as number);
      let value = 0;
      for (let i = 0; i < n; i++) value += 0.5 * (x[i] as number) * (ax[i] as number) - (b[i] as number) * (x[i] as number);
      return { value, gradient: ax.map((v, i) => v - (b[i] as number)) };
    };
    const res = await minimizeLbfgs(f, new Float64Array(n), { gradientTolerance: 1e-10, maxIterations: 500 });
    assert.equal(res.stop, 'converged');
    assert.ok(res.gradientNorm <= 1e-10);
    // ‖x − x*‖ ≤ ‖∇‖ / λ_min(A) = 1e-10.
    assert.ok(maxAbsDiff(res.x, gaussSolve(a, b)) <= 1e-10, `max |x − x*| = ${maxAbsDiff(res.x, gaussSolve(a, b))}`);
    // L-BFGS on a quadratic with condition number 100 needs far fewer steps than n·10.
    assert.ok(res.iterations < 150, `${res.iterations} iterations`);
  });

  it('finds the minimiser of L2-regularised logistic regression (Newton reference)', async () => {
    const n = 200;
    const d = 5;
    const r = seededRandom(11);
    const xs = Array.from({ length: n }, () => Float64Array.from({ length: d }, () => 2 * r() - 1));
    const ys = xs.map((x) => (r() < 1 / (1 + Math.exp(-(2 * (x[0] as number) - (x[1] as number) + 0.5))) ? 1 : 0));
    const lambda = 1e-2;
    // L(w) = (1/n) Σ log(1 + e^{w·x}) − y w·x + (λ/2)‖w‖²; ∇L and ∇²L in closed form.
    const evaluate = (w: Float64Array, order: 0 | 2) => {
      let value = 0;
      const gradient = new Float64Array(d);
      const hessian = new Float64Array(d * d);
      xs.forEach((x, i) => {
        let z = 0;
        for (let k = 0; k < d; k++) z += (w[k] as number) * (x[k] as number);
        value += (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - (ys[i] as number) * z) / n;
        const p = 1 / (1 + Math.exp(-z));
        for (let k = 0; k < d; k++) {
          gradient[k] = (gradient[k] as number) + ((p - (ys[i] as number)) * (x[k] as number)) / n;
          for (let l = 0; l < d; l++) hessian[k * d + l] = (hessian[k * d + l] as number) + (p * (1 - p) * (x[k] as number) * (x[l] as number)) / n;
        }
      });
      for (let k = 0; k < d; k++) {
        value += 0.5 * lambda * (w[k] as number) ** 2;
        gradient[k] = (gradient[k] as number) + lambda * (w[k] as number);
        hessian[k * d + k] = (hessian[k * d + k] as number) + lambda;
      }
      return order === 0 ? { value } : { value, gradient, hessian };
    };
    const reference = newtonMinimize(evaluate, new Float64Array(d), { gradientTolerance: 1e-13 });
    const res = await minimizeLbfgs(async (w) => evaluate(w, 2) as { value: number; gradient: Float64Array }, new Float64Array(d), {
      gradientTolerance: 1e-11,
      maxIterations: 200,
    });
    assert.equal(res.stop, 'converged');
    // ‖w − w*‖ ≤ ‖∇L‖ / λ_min(∇²L) ≤ 1e-11 / λ = 1e-9.
    assert.ok(maxAbsDiff(res.x, reference.params) <= 1e-9, `max |w − w*| = ${maxAbsDiff(res.x, reference.params)}`);
    assert.ok(Math.abs(res.value - reference.value) <= 1e-14);
  });

  it("finds Rosenbrock's minimiser (1, 1) from (−1.2, 1)", async () => {
    const f: SmoothObjective = async (x) => {
      const [a, b] = [x[0] as number, x[1] as number];
      return {
        value: (1 - a) ** 2 + 100 * (b - a * a) ** 2,
        gradient: Float64Array.from([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)]),
      };
    };
    const res = await minimizeLbfgs(f, Float64Array.from([-1.2, 1]), { gradientTolerance: 1e-9, maxIterations: 500 });
    assert.equal(res.stop, 'converged');
    assert.ok(maxAbsDiff(res.x, [1, 1]) < 1e-8, `x = ${Array.from(res.x)}`);
  });

  it('with relativeTolerance, resolves a start whose gradient is already below the absolute tolerance', async () => {
    // ½xᵀAx − bᵀx started at x* + δ with ‖Aδ‖ ≈ 1e-7 < gradientTolerance 1e-6 (a leave-one-out run from the base run's end).
    const n = 20;
    const a = spdMatrix(n, 7);
    const r = seededRandom(8);
    const b = Float64Array.from({ length: n }, () => r() - 0.5);
    const f: SmoothObjective = async (x) => {
      const ax = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ax[i] = (ax[i] as number) + (a[i * n + j] as number) * (x[j] as number);
      let value = 0;
      for (let i = 0; i < n; i++) value += 0.5 * (x[i] as number) * (ax[i] as number) - (b[i] as number) * (x[i] as number);
      return { value, gradient: ax.map((v, i) => v - (b[i] as number)) };
    };
    const xStar = gaussSolve(a, b);
    const start = xStar.map((v) => v + 2e-9 * (r() - 0.5));
    const plain = await minimizeLbfgs(f, start, { gradientTolerance: 1e-6, maxIterations: 100 });
    assert.equal(plain.iterations, 0, 'the absolute rule alone accepts the start');
    const relative = await minimizeLbfgs(f, start, { gradientTolerance: 1e-6, relativeTolerance: 1e-2, maxIterations: 100 });
    assert.ok(relative.iterations >= 1);
    assert.equal(relative.converged, true);
    assert.ok(relative.gradientNorm <= 1e-2 * relative.initialGradientNorm, `‖∇‖ ${relative.gradientNorm} from ${relative.initialGradientNorm}`);
    // ‖x − x*‖ ≤ ‖∇‖ / λ_min(A) = ‖∇‖: within 1% of the start's gradient.
    assert.ok(maxAbsDiff(relative.x, xStar) <= relative.gradientNorm, `max |x − x*| = ${maxAbsDiff(relative.x, xStar)}`);
  });

  it('is deterministic and reports progress once per step', async () => {
    const f: SmoothObjective = async (x) => ({ value: Math.cosh(x[0] as number) + (x[1] as number) ** 4, gradient: Float64Array.from([Math.sinh(x[0] as number), 4 * (x[1] as number) ** 3]) });
    const seen: number[] = [];
    const a = await minimizeLbfgs(f, Float64Array.from([2, 1]), { gradientTolerance: 1e-8, maxIterations: 100, onIteration: (it) => seen.push(it) });
    const b = await minimizeLbfgs(f, Float64Array.from([2, 1]), { gradientTolerance: 1e-8, maxIterations: 100 });
    assert.deepEqual(Array.from(a.x), Array.from(b.x));
    assert.equal(a.iterations, b.iterations);
    assert.deepEqual(seen, Array.from({ length: a.iterations }, (_, i) => i + 1));
  });

  it('stops at the iteration cap without claiming convergence', async () => {
    const f: SmoothObjective = async (x) => ({ value: Math.cosh(x[0] as number), gradient: Float64Array.from([Math.sinh(x[0] as number)]) });
    const res = await minimizeLbfgs(f, Float64Array.from([3]), { gradientTolerance: 1e-14, maxIterations: 2 });
    assert.equal(res.iterations, 2);
    assert.equal(res.stop, 'max-iterations');
    assert.equal(res.converged, false);
  });

  it('stops with "line-search" when no step lowers the value', async () => {
    // A gradient of the wrong sign: −∇ points uphill, so every trial raises L.
    const f: SmoothObjective = async (x) => ({ value: (x[0] as number) ** 2, gradient: Float64Array.from([-2 * (x[0] as number)]) });
    const res = await minimizeLbfgs(f, Float64Array.from([1]), { gradientTolerance: 1e-12, maxIterations: 100 });
    assert.equal(res.stop, 'line-search');
    assert.equal(res.converged, false);
    assert.deepEqual(Array.from(res.x), [1]);
  });

  it('converges in the gradient when values carry float32 round-off', async () => {
    // L rounded to float32 (relative 6e-8): Armijo alone stalls once L − L* < 1e-7;
    // the approximate Wolfe conditions go on by the exact gradient.
    const f: SmoothObjective = async (x) => ({ value: Math.fround(1 + (x[0] as number) ** 2 + (x[1] as number) ** 2 / 4), gradient: Float64Array.from([2 * (x[0] as number), (x[1] as number) / 2]) });
    const res = await minimizeLbfgs(f, Float64Array.from([1, 1]), { gradientTolerance: 1e-10, maxIterations: 100 });
    assert.equal(res.stop, 'converged');
    assert.ok(maxAbsDiff(res.x, [0, 0]) < 1e-9);
  });

  it('with stallIterations, stops ("stalled") once ‖∇‖ stops falling, and returns the best iterate', async () => {
    // ‖∇‖ cannot fall below the gradient's noise (seeded, ±1e-6 per coordinate and call).
    const r = seededRandom(3);
    const f: SmoothObjective = async (x) => ({
      value: (x[0] as number) ** 2 + (x[1] as number) ** 2,
      gradient: Float64Array.from([2 * (x[0] as number) + 1e-6 * (2 * r() - 1), 2 * (x[1] as number) + 1e-6 * (2 * r() - 1)]),
    });
    const seen: number[] = [];
    const res = await minimizeLbfgs(f, Float64Array.from([1, -2]), { gradientTolerance: 1e-12, maxIterations: 1000, stallIterations: 10, onIteration: (_k, _v, g) => seen.push(g) });
    assert.equal(res.stop, 'stalled');
    assert.equal(res.converged, false);
    assert.ok(res.iterations < 1000);
    assert.ok(res.gradientNorm < 1e-5, `‖∇‖ ${res.gradientNorm}: at the noise level`);
    assert.equal(res.gradientNorm, Math.min(...seen), 'the iterate with the smallest ‖∇‖');
  });

  it('with roundoffFloor, counts ‖∇‖ at the floor as converged', async () => {
    const n = 8;
    const a = spdMatrix(n, 4);
    const b = Float64Array.from({ length: n }, (_, i) => i - 3);
    const f: SmoothObjective = async (x) => {
      const ax = Float64Array.from({ length: n }, (_, i) => x.reduce((s, v, j) => s + (a[i * n + j] as number) * v, 0));
      return { value: 0.5 * x.reduce((s, v, i) => s + v * (ax[i] as number), 0) - x.reduce((s, v, i) => s + v * (b[i] as number), 0), gradient: ax.map((v, i) => v - (b[i] as number)) };
    };
    const tight = await minimizeLbfgs(f, new Float64Array(n), { gradientTolerance: 1e-10, maxIterations: 500 });
    const floored = await minimizeLbfgs(f, new Float64Array(n), { gradientTolerance: 1e-10, maxIterations: 500, roundoffFloor: 1e-3 });
    assert.equal(floored.stop, 'converged');
    assert.ok(floored.gradientNorm <= 1e-3 && floored.gradientNorm > 1e-10);
    assert.ok(floored.iterations < tight.iterations, `${floored.iterations} steps with the floor, ${tight.iterations} without`);
  });

  it('throws CancelledError when the signal is aborted', async () => {
    const controller = new AbortController();
    const f: SmoothObjective = async (x) => {
      controller.abort();
      return { value: (x[0] as number) ** 2, gradient: Float64Array.from([2 * (x[0] as number)]) };
    };
    await assert.rejects(minimizeLbfgs(f, Float64Array.from([1]), { gradientTolerance: 1e-12, maxIterations: 10, signal: controller.signal }), CancelledError);
  });
});
