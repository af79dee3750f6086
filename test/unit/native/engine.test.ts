/**
 * The engine's forward pass, gradient, directional derivatives and exact Hessian-vector
 * product (src/engine/autodiff/hessianVectorProduct.ts) on the `native` backend against
 * the `cpu` backend, for every layer fixture and a scaled-down paper CNN.
 *
 * Tolerance: relative L2 error ‖native − cpu‖ / ‖cpu‖ ≤ 1e-5 for every quantity (float32
 * kernels with other summation orders; the largest seen here is a few times 1e-7).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Model } from '../../../src/engine/model/model';
import { ParamBlock, accumulateGradient, accumulateHessianVectorProduct, directionalDerivatives } from '../../../src/engine/autodiff/hessianVectorProduct';
import type { TensorBatch } from '../../../src/engine/batches';
import type { LossName } from '../../../src/common/workspaceConfig';
import { seededRandom } from '../../../src/engine/influence/sampling';
import { artifactsOf, layerCases } from '../engine/layersFixtures';
import type { LayerCase } from '../engine/layersFixtures';
import { nativeForTests, requireNative } from './nativeAvailable';

const TOLERANCE = 1e-5;
const status = nativeForTests();

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function randomVector(n: number, seed: number): Float64Array {
  const r = seededRandom(seed);
  return Float64Array.from({ length: n }, () => r() * 2 - 1);
}

interface Quantities {
  readonly logits: Float32Array;
  readonly loss: number;
  readonly grad: Float64Array;
  readonly hvp: Float64Array;
  readonly directional: Float32Array;
  readonly losses: Float32Array;
}

/** A scaled-down paper CNN (conv 5×5 tanh, max-pool 2, conv 5×5 tanh, max-pool 2, dense). */
function paperCnn(): LayerCase {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return {
    name: 'paper-cnn (8 and 16 filters, 28×28×1, 4 classes)',
    classes: 4,
    input: (n) => tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', 17),
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, activation: 'tanh', name: 'c1', kernelInitializer: init(1) }),
          tf.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
          tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'tanh', name: 'c2', kernelInitializer: init(2) }),
          tf.layers.maxPooling2d({ poolSize: 2, name: 'p2' }),
          tf.layers.flatten({ name: 'flat' }),
          tf.layers.dense({ units: 4, name: 'head', kernelInitializer: init(3) }),
        ],
      }),
  };
}

async function quantities(backend: string, c: LayerCase, loss: LossName, n: number): Promise<Quantities> {
  await tf.setBackend(backend);
  const layersModel = c.build();
  const model = Model.fromArtifacts(await artifactsOf(layersModel));
  layersModel.dispose();
  const x = c.input(n);
  const y = loss === 'mse' ? tf.randomNormal([n, c.classes], 0, 1, 'float32', 5) : tf.tensor1d(Array.from({ length: n }, (_, i) => i % Math.max(2, c.classes)), 'float32');
  const batch: TensorBatch = { x, y, n, indices: Array.from({ length: n }, (_, i) => i) };
  try {
    const block = ParamBlock.all(model);
    const v = randomVector(block.size, 1);
    const logits = tf.tidy(() => model.forward(model.params, x).dataSync() as Float32Array);
    const grad = new Float64Array(block.size);
    const lossValue = accumulateGradient(loss, block, batch, grad);
    const hvp = new Float64Array(block.size);
    accumulateHessianVectorProduct(loss, block, block, v, batch, hvp);
    const d = directionalDerivatives(loss, block, v, batch);
    return { logits, loss: lossValue, grad, hvp, directional: d.derivatives, losses: d.losses };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

describe('the engine on the native backend against the cpu backend', { skip: status.skip }, () => {
  before(() => {
    requireNative(status);
  });

  for (const c of [...layerCases(), paperCnn()]) {
    // The losses test/unit/engine/hessianVectorProduct.test.ts uses for each fixture.
    const losses: LossName[] = c.classes === 1 ? ['sigmoid_cross_entropy'] : c.name.startsWith('dense') ? ['softmax_cross_entropy', 'mse'] : ['softmax_cross_entropy'];
    for (const loss of losses) it(`${c.name} / ${loss}: forward, gradient, HVP and directional derivatives`, async () => {
      const n = c.name.startsWith('paper') ? 12 : 6;
      const cpu = await quantities('cpu', c, loss, n);
      const native = await quantities('native', c, loss, n);
      const errors = {
        logits: relErr(native.logits, cpu.logits),
        loss: Math.abs(native.loss - cpu.loss) / Math.max(Math.abs(cpu.loss), 1e-30),
        gradient: relErr(native.grad, cpu.grad),
        hvp: relErr(native.hvp, cpu.hvp),
        directional: relErr(native.directional, cpu.directional),
        losses: relErr(native.losses, cpu.losses),
      };
      if (process.env['MSIF_NATIVE_TEST_VERBOSE']) process.stderr.write(`${c.name}: ${JSON.stringify(errors)}\n`);
      for (const [what, e] of Object.entries(errors)) assert.ok(e <= TOLERANCE, `${what}: relative error ${e.toExponential(2)} > ${TOLERANCE}`);
      // A vacuous comparison (all zeros) would pass: the HVP must be non-trivial.
      assert.ok(cpu.hvp.some((h) => Math.abs(h) > 1e-6), 'the HVP is zero');
    });
  }
});
