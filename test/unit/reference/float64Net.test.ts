/**
 * The reference's exact derivatives against central finite differences of its own
 * float64 loss, on every zoo model (all supported layers and all three losses).
 *
 * Tolerance: ‖exact − FD‖∞ ≤ 1e-6 · ‖exact‖∞, with step h = 1e-5. The central difference
 * errs by h²/6 · |L'''| ≈ 2e-11 (third derivatives are O(1) at weights ~ N(0, 0.5²)) plus
 * rounding ε·|L|/h ≈ 2e-16 · O(1) / 1e-5 ≈ 2e-11, while ‖∇L‖∞ and ‖∇²L‖∞ are 1e-2 … 1:
 * a relative error of ~1e-8 at worst (measured: ≤ 2e-10), so 1e-6 keeps a margin of 100. A wrong local
 * partial (say, a sign in a second derivative) shows up at 1e-2 or more. The kinks of
 * ReLU, ELU and max pooling are met with probability ~h at a random point, i.e. never
 * here (the seed is fixed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { modelFiles } from '../../fixtures/tfjsArtifacts';
import { modelZoo, type ZooModel } from '../../fixtures/modelZoo';
import { SeededRandom } from '../../fixtures/seededRandom';
import { ReferenceNet, type ReferenceExample } from '../../reference/float64Net';
import { parseTfjsModel } from '../../reference/tfjsModelReader';

interface Case {
  readonly name: string;
  readonly net: ReferenceNet;
  readonly theta: Float64Array;
  readonly examples: ReferenceExample[];
}

let zoo: ZooModel[];
const cases: Case[] = [];
const h = 1e-5;

before(async () => {
  await tf.ready();
  zoo = modelZoo(new SeededRandom(3));
  const rng = new SeededRandom(4);
  for (const z of zoo) {
    const files = await modelFiles(z.model);
    const net = new ReferenceNet(parseTfjsModel(files.json, files.weights, z.name), z.loss);
    const examples = Array.from({ length: 5 }, () => ({ x: z.input(rng), y: z.label(rng) }));
    cases.push({ name: z.name, net, theta: net.initialParams(), examples });
  }
});

after(() => zoo.forEach((z) => z.model.dispose()));

/** ‖a − e‖∞ / ‖e‖∞. */
function relativeMaxError(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (e[i] as number)));
    scale = Math.max(scale, Math.abs(e[i] as number));
  }
  return diff / scale;
}

function shifted(theta: Float64Array, i: number, delta: number): Float64Array {
  const t = Float64Array.from(theta);
  t[i] = (t[i] as number) + delta;
  return t;
}

describe('ReferenceNet derivatives', () => {
  it('gradient equals the central difference of the loss', () => {
    for (const c of cases) {
      const g = c.net.gradient(c.theta, c.examples);
      const fd = Float64Array.from(g, (_, i) => (c.net.loss(shifted(c.theta, i, h), c.examples) - c.net.loss(shifted(c.theta, i, -h), c.examples)) / (2 * h));
      const err = relativeMaxError(g, fd);
      assert.ok(err <= 1e-6, `${c.name}: relative error ${err.toExponential(2)}`);
    }
  });

  it('Hessian is symmetric and equals the central difference of the gradient', () => {
    for (const c of cases) {
      const P = c.net.paramCount;
      const H = c.net.hessian(c.theta, c.examples);
      const transposed = Float64Array.from(H, (_, k) => H[(k % P) * P + Math.floor(k / P)] as number);
      // Both triangles sum the same terms in different orders: they agree to rounding.
      assert.ok(relativeMaxError(H, transposed) <= 1e-12, `${c.name}: asymmetric Hessian`);
      const fd = new Float64Array(P * P);
      for (let i = 0; i < P; i++) {
        const plus = c.net.gradient(shifted(c.theta, i, h), c.examples);
        const minus = c.net.gradient(shifted(c.theta, i, -h), c.examples);
        for (let j = 0; j < P; j++) fd[i * P + j] = ((plus[j] as number) - (minus[j] as number)) / (2 * h);
      }
      const err = relativeMaxError(H, fd);
      assert.ok(err <= 1e-6, `${c.name}: relative error ${err.toExponential(2)}`);
    }
  });

  it('evaluate() weighs examples: order 2 returns the weighted sum of per-example values', () => {
    const c = cases[0] as Case;
    const weights = [0.5, 0, 2, 1, 0.25];
    const e = c.net.evaluate(c.theta, c.examples, 2, weights);
    const perExample = c.net.perExampleGradients(c.theta, c.examples);
    const loss = c.examples.reduce((s, ex, i) => s + (weights[i] as number) * c.net.exampleLoss(c.theta, ex), 0);
    assert.ok(Math.abs(e.value - loss) <= 1e-14 * Math.abs(loss));
    const g = Float64Array.from({ length: c.net.paramCount }, (_, p) => perExample.reduce((s, pg, i) => s + (weights[i] as number) * (pg[p] as number), 0));
    assert.ok(relativeMaxError(e.gradient as Float64Array, g) <= 1e-13);
  });

  it('softmax cross-entropy stays finite and exact for huge logits (log-sum-exp)', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [1], useBias: false, name: 'logits' })] });
    const files = await modelFiles(model);
    model.dispose();
    const net = new ReferenceNet(parseTfjsModel(files.json, files.weights, 'logits'), 'softmax_cross_entropy');
    // logits = θ·x = (1000, 0, −1000); label 1: loss = 1000 + log(1 + e⁻¹⁰⁰⁰ + e⁻²⁰⁰⁰) ≈ 1000,
    // ∂/∂θ = x·(softmax − onehot) = (1, −1, 0).
    const example = { x: Float64Array.of(1), y: Float64Array.of(1) };
    const theta = Float64Array.of(1000, 0, -1000);
    assert.equal(net.loss(theta, [example]), 1000);
    assert.deepEqual(Array.from(net.gradient(theta, [example])), [1, -1, 0]);
  });
});
