/**
 * `Model.splitAfter`: the head on the trunk's output is the same function as the whole
 * model, with the same gradients and Hessian-vector products on the head's parameters
 * (Case 1 caches the trunk's output and solves on the head alone).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Model } from '../../../src/engine/model/model';
import { ParamBlock, accumulateGradient, accumulateHessianVectorProduct } from '../../../src/engine/autodiff/hessianVectorProduct';
import { seededRandom } from '../../../src/engine/influence/sampling';
import { artifactsOf } from './layersFixtures';

const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed });

function cnn(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, activation: 'tanh', name: 'conv', kernelInitializer: init(1), biasInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 4, activation: 'tanh', name: 'hidden', kernelInitializer: init(3), biasInitializer: init(4) }),
      tf.layers.dense({ units: 3, name: 'out', kernelInitializer: init(5), biasInitializer: init(6) }),
    ],
  });
}

describe('Model.splitAfter', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('head(trunk(x)) equals the model, and head derivatives equal the model\'s on the head block', async () => {
    const model = Model.fromArtifacts(await artifactsOf(cnn()));
    const split = model.splitAfter('flat');
    assert.ok(split);
    assert.equal(split.trunkParamCount, 2);
    assert.deepEqual(split.head.paramSpecs.map((s) => s.name), ['hidden/kernel', 'hidden/bias', 'out/kernel', 'out/bias']);
    assert.deepEqual(split.head.graph.inputShape, [12]);
    const n = 5;
    const x = tf.randomNormal([n, 6, 6, 1], 0, 1, 'float32', 9);
    const y = tf.tensor1d([0, 1, 2, 1, 0]);
    const features = split.trunk(x);
    // Same kernels on the same values: identical logits.
    assert.deepEqual(Array.from(split.head.forward(split.head.params, features).dataSync()), Array.from(model.forward(model.params, x).dataSync()));

    const headBlock = ParamBlock.all(split.head);
    const modelHead = new ParamBlock(model, [2, 3, 4, 5]);
    const r = seededRandom(3);
    const v = Float64Array.from({ length: headBlock.size }, () => r() * 2 - 1);
    const g1 = new Float64Array(headBlock.size);
    const g2 = new Float64Array(headBlock.size);
    accumulateGradient('softmax_cross_entropy', headBlock, { x: features, y, n, indices: [0, 1, 2, 3, 4] }, g1);
    accumulateGradient('softmax_cross_entropy', modelHead, { x, y, n, indices: [0, 1, 2, 3, 4] }, g2);
    const h1 = new Float64Array(headBlock.size);
    const h2 = new Float64Array(headBlock.size);
    accumulateHessianVectorProduct('softmax_cross_entropy', headBlock, headBlock, v, { x: features, y, n, indices: [0, 1, 2, 3, 4] }, h1);
    accumulateHessianVectorProduct('softmax_cross_entropy', modelHead, modelHead, v, { x, y, n, indices: [0, 1, 2, 3, 4] }, h2);
    // The same float32 operations on the same values, up to the summation order of the
    // (unused) trunk terms: 1e-6 relative to the largest entry.
    for (const [a, b, what] of [[g1, g2, 'gradient'], [h1, h2, 'HVP']] as const) {
      const scale = Math.max(...Array.from(b, Math.abs));
      a.forEach((ai, i) => assert.ok(Math.abs(ai - (b[i] as number)) <= 1e-6 * scale, `${what} ${i}: ${ai} vs ${b[i]}`));
    }
    // The head is a view: disposing it keeps the model's tensors alive.
    split.head.dispose();
    assert.equal(model.params.every((p) => !p.isDisposed), true);
    tf.dispose([x, y, features]);
    model.dispose();
  });

  it('is undefined at the output layer and for unknown layers', async () => {
    const model = Model.fromArtifacts(await artifactsOf(cnn()));
    assert.equal(model.splitAfter('out'), undefined);
    assert.equal(model.splitAfter('nope'), undefined);
    assert.ok(model.splitAfter('conv'));
    model.dispose();
  });
});
