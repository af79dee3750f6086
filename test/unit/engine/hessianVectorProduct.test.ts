/**
 * Forward passes, gradients and Hessian-vector products of every supported layer type and
 * loss, on every backend available here, against tfjs-layers' forward pass, central finite
 * differences and the explicit float64 Hessian of the independent reference.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Model } from '../../../src/engine/model/model';
import { ParamBlock, accumulateGradient, accumulateHessianVectorProduct, directionalDerivatives } from '../../../src/engine/autodiff/hessianVectorProduct';
import type { TensorBatch } from '../../../src/engine/batches';
import type { LossName } from '../../../src/common/workspaceConfig';
import { artifactsOf, layerCases } from './layersFixtures';
import { seededRandom } from '../../../src/engine/influence/sampling';
import { ReferenceNet } from '../../reference/float64Net';
import { parseTfjsModel } from '../../reference/tfjsModelReader';
import { flatIndexKernelsAvailable } from '../../../src/engine/model/flatIndex';
import { tanhKernelsAvailable } from '../../../src/engine/model/tanhDual';
import { registerEngineKernels } from '../../../src/worker/kernels/engineKernels';

/**
 * The backends, and `cpu` once more with the engine's optional kernels registered
 * (src/worker/kernels/engineKernels.ts): max pooling then runs as gathers instead of
 * one-hot masks (flatIndex.ts), tanh's derivatives as fused kernels (tanhDual.ts). Last,
 * since a registration cannot be undone for the later runs.
 */
const BACKENDS: readonly { readonly name: string; readonly backend: string; readonly engineKernels?: true }[] = [
  { name: 'cpu', backend: 'cpu' },
  { name: 'wasm', backend: 'wasm' },
  { name: 'cpu with the engine kernels', backend: 'cpu', engineKernels: true },
];

function randomVector(n: number, seed: number): Float64Array {
  const r = seededRandom(seed);
  return Float64Array.from({ length: n }, () => r() * 2 - 1);
}

function dot(a: Float64Array, b: Float64Array): number {
  return a.reduce((s, x, i) => s + x * (b[i] as number), 0);
}

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
}

/** Loss sum and gradient at params θ + t v (v over the whole model). */
function gradientAt(model: Model, loss: LossName, batch: TensorBatch, v: Float64Array, t: number): { value: number; grad: Float64Array } {
  const block = ParamBlock.all(model);
  const base = model.params;
  const shifted = block.tangentOf(v).map((d, i) => tf.add(base[i] as tf.Tensor, tf.mul(t, d as tf.Tensor)));
  model.params = shifted;
  const grad = new Float64Array(block.size);
  try {
    const value = accumulateGradient(loss, block, batch, grad);
    return { value, grad };
  } finally {
    model.params = base;
    tf.dispose(shifted);
  }
}

for (const { name, backend, engineKernels } of BACKENDS) {
  describe(`autodiff on the ${name} backend`, () => {
    before(async () => {
      if (engineKernels) registerEngineKernels(backend);
      await tf.setBackend(backend);
      await tf.ready();
      assert.equal(flatIndexKernelsAvailable(), engineKernels === true);
      assert.equal(tanhKernelsAvailable(), engineKernels === true);
    });

    for (const c of layerCases()) {
      const losses: LossName[] = c.classes === 1 ? ['sigmoid_cross_entropy'] : c.name.startsWith('dense') ? ['softmax_cross_entropy', 'mse'] : ['softmax_cross_entropy'];
      for (const loss of losses) {
        it(`${c.name} / ${loss}: forward, gradient and HVP`, async () => {
          const layersModel = c.build();
          const artifacts = await artifactsOf(layersModel);
          const model = Model.fromArtifacts(artifacts);
          const n = 6;
          const x = c.input(n);
          const y =
            loss === 'mse'
              ? tf.randomNormal([n, c.classes], 0, 1, 'float32', 5)
              : tf.tensor1d([0, 1, 2, 1, 0, 2].map((k) => k % Math.max(2, c.classes)), 'float32');
          const batch: TensorBatch = { x, y, n, indices: [0, 1, 2, 3, 4, 5] };

          // Forward pass equals tfjs-layers' (same float32 kernels, different graph): 1e-5.
          const ours = model.forward(model.params, x).dataSync();
          const theirs = (layersModel.predict(x) as tf.Tensor).dataSync();
          for (let i = 0; i < ours.length; i++) assert.ok(Math.abs((ours[i] as number) - (theirs[i] as number)) <= 1e-5 * Math.max(1, Math.abs(theirs[i] as number)), `logit ${i}`);

          const block = ParamBlock.all(model);
          const v = randomVector(block.size, 1);
          const u = randomVector(block.size, 2);

          // Directional derivative v·∇L: forward mode vs reverse mode (exact both): 1e-4.
          const g = gradientAt(model, loss, batch, v, 0).grad;
          const dd = directionalDerivatives(loss, block, v, batch).derivatives.reduce((s, d) => s + d, 0);
          assert.ok(Math.abs(dd - dot(v, g)) <= 1e-4 * Math.max(1, Math.abs(dd)), `jvp ${dd} vs grad·v ${dot(v, g)}`);

          // Gradient vs central difference of the loss, eps 1e-2: truncation O(eps²) ≈ 1e-4,
          // float32 round-off ≈ 1e-7·|L|/eps ≈ 1e-5 → 2e-3 relative.
          const eps = 1e-2;
          const fd = (gradientAt(model, loss, batch, v, eps).value - gradientAt(model, loss, batch, v, -eps).value) / (2 * eps);
          assert.ok(Math.abs(fd - dot(v, g)) <= 2e-3 * Math.max(1, Math.abs(fd)), `fd ${fd} vs ${dot(v, g)}`);

          // HVP vs central difference of the gradient. eps 1e-3: small enough that no max-pool
          // window changes its maximiser (at 1e-2 one does, in the overlapping-pool case);
          // truncation O(eps²) ≈ 1e-6, float32 round-off ≈ 1e-7·‖∇L‖/eps ≈ 1e-4 → 2e-3.
          const hv = new Float64Array(block.size);
          accumulateHessianVectorProduct(loss, block, block, v, batch, hv);
          const epsH = 1e-3;
          const gp = gradientAt(model, loss, batch, v, epsH).grad;
          const gm = gradientAt(model, loss, batch, v, -epsH).grad;
          const hvFd = gp.map((a, i) => (a - (gm[i] as number)) / (2 * epsH));
          assert.ok(relErr(hv, hvFd) <= 2e-3, `HVP vs FD: ${relErr(hv, hvFd)}`);

          // Against the explicit Hessian of the independent float64 reference (test/reference),
          // same float32 weights and inputs: the engine's HVP carries float32 round-off only,
          // ≈ 1e-6 relative per product → 1e-4 on the vector.
          const ref = new ReferenceNet(parseTfjsModel(artifacts.modelJson, new Uint8Array(artifacts.weightData), 'model.json'), loss);
          assert.deepEqual(ref.paramNames(), model.paramSpecs.map((s) => s.name));
          const xs = x.dataSync();
          const ys = y.dataSync();
          const per = xs.length / n;
          const yPer = ys.length / n;
          const examples = Array.from({ length: n }, (_, i) => ({ x: Float64Array.from(xs.slice(i * per, (i + 1) * per)), y: Float64Array.from(ys.slice(i * yPer, (i + 1) * yPer)) }));
          const p = block.size;
          const hMean = ref.hessian(Float64Array.from(model.flatParams()), examples);
          const hvExplicit = new Float64Array(p);
          for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) hvExplicit[i] = (hvExplicit[i] as number) + n * (hMean[i * p + j] as number) * (v[j] as number);
          assert.ok(relErr(hv, hvExplicit) <= 1e-4, `HVP vs explicit Hessian: ${relErr(hv, hvExplicit)}`);

          // Symmetry uᵀHv = vᵀHu (float32 accumulation over P terms): 1e-4.
          const hu = new Float64Array(block.size);
          accumulateHessianVectorProduct(loss, block, block, u, batch, hu);
          const a = dot(u, hv);
          const b = dot(v, hu);
          assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)), `uHv ${a} vs vHu ${b}`);

          tf.dispose([x, y]);
          model.dispose();
          layersModel.dispose();
        });
      }
    }
  });
}
