/**
 * The tape's values, gradients and Hessians against closed forms derived by hand.
 * Tolerance 1e-13 relative: every expected value is evaluated in float64 by a formula
 * with a handful of operations, so both sides round at ~1e-16 per operation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecondOrderTape } from '../../reference/secondOrderTape';

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-13 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

describe('SecondOrderTape', () => {
  it('f(x, y) = x·y³ + eˣ·tanh(y) + log(x): value, gradient and Hessian', () => {
    // ∂f/∂x = y³ + eˣ t + 1/x,             ∂f/∂y = 3xy² + eˣ (1 − t²)
    // ∂²f/∂x² = eˣ t − 1/x²,  ∂²f/∂x∂y = 3y² + eˣ (1 − t²),  ∂²f/∂y² = 6xy − 2eˣ t (1 − t²)
    const x = 0.7;
    const y = -1.3;
    const t = Math.tanh(y);
    const ex = Math.exp(x);
    const tape = new SecondOrderTape(2);
    const px = tape.param(0, x);
    const py = tape.param(1, y);
    const f = tape.add(tape.add(tape.mul(px, tape.mul(py, tape.mul(py, py))), tape.mul(tape.exp(px), tape.tanh(py))), tape.log(px));
    const g = new Float64Array(2);
    const H = new Float64Array(4);
    const value = tape.accumulateHessian(f, 1, g, H);
    close(value, x * y ** 3 + ex * t + Math.log(x), 'f');
    close(g[0] as number, y ** 3 + ex * t + 1 / x, '∂f/∂x');
    close(g[1] as number, 3 * x * y * y + ex * (1 - t * t), '∂f/∂y');
    close(H[0] as number, ex * t - 1 / (x * x), '∂²f/∂x²');
    close(H[1] as number, 3 * y * y + ex * (1 - t * t), '∂²f/∂x∂y');
    close(H[2] as number, 3 * y * y + ex * (1 - t * t), '∂²f/∂y∂x');
    close(H[3] as number, 6 * x * y - 2 * ex * t * (1 - t * t), '∂²f/∂y²');
  });

  it('sigmoid, softplus, relu, elu, square, scale, shift, sub on one variable', () => {
    // f(x) = σ(x) + softplus(2x) + relu(x) + elu(x − 1) + (x − 3)², x = 0.4:
    // f'  = σ(1−σ) + 2σ(2x) + 1 + e^{x−1} + 2(x − 3)
    // f'' = σ(1−σ)(1−2σ) + 4σ(2x)(1−σ(2x)) + 0 + e^{x−1} + 2
    const x = 0.4;
    const s = 1 / (1 + Math.exp(-x));
    const s2 = 1 / (1 + Math.exp(-2 * x));
    const tape = new SecondOrderTape(1);
    const p = tape.param(0, x);
    const terms = [tape.sigmoid(p), tape.softplus(tape.scale(p, 2)), tape.relu(p), tape.elu(tape.shift(p, -1)), tape.square(tape.sub(p, tape.constant(3)))];
    const f = tape.sum(terms);
    const g = new Float64Array(1);
    const H = new Float64Array(1);
    const value = tape.accumulateHessian(f, 2, g, H);
    close(value, 2 * (s + Math.log1p(Math.exp(2 * x)) + x + Math.exp(x - 1) - 1 + (x - 3) ** 2), 'weighted f');
    close(g[0] as number, 2 * (s * (1 - s) + 2 * s2 + 1 + Math.exp(x - 1) + 2 * (x - 3)), "weighted f'");
    close(H[0] as number, 2 * (s * (1 - s) * (1 - 2 * s) + 4 * s2 * (1 - s2) + Math.exp(x - 1) + 2), "weighted f''");
  });

  it('is stable for large arguments and folds constants', () => {
    const tape = new SecondOrderTape(1);
    const p = tape.param(0, -800);
    const g = new Float64Array(1);
    // softplus(−800) = log(1 + e⁻⁸⁰⁰) underflows to 0, its derivative σ(−800) to 0: no NaN.
    assert.equal(tape.accumulateGradient(tape.softplus(p), 1, g), 0);
    assert.equal(g[0], 0);
    const c = tape.exp(tape.mul(tape.constant(2), tape.constant(3)));
    assert.ok(tape.isConstant(c));
    close(tape.value(c), Math.exp(6), 'constant');
    // A constant output has zero derivatives.
    const h = new Float64Array(1);
    assert.equal(tape.accumulateHessian(c, 1, g, h), Math.exp(6));
    assert.equal(h[0], 0);
  });

  it('accumulates across resets (sum of per-example Hessians)', () => {
    // Σ_{a ∈ {1,2}} (a·θ)³ at θ = 0.5 (Σ a³ = 9): gradient 3·9·θ² = 6.75, Hessian 6·9·θ = 27.
    const tape = new SecondOrderTape(1);
    const g = new Float64Array(1);
    const H = new Float64Array(1);
    for (const a of [1, 2]) {
      tape.reset();
      const u = tape.scale(tape.param(0, 0.5), a);
      tape.accumulateHessian(tape.mul(u, tape.mul(u, u)), 1, g, H);
    }
    close(g[0] as number, 6.75, 'gradient');
    close(H[0] as number, 27, 'Hessian');
  });
});
