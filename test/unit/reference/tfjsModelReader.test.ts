/**
 * The float64 reference reads tfjs-layers models by itself; here its forward pass is
 * checked against tfjs-layers' own `model.predict` on the same saved files.
 *
 * Tolerance: |ref − tfjs| ≤ 1e-4 · max(1, |tfjs|). Both read the same float32 weights
 * (decoded exactly), so the only difference is tfjs' float32 arithmetic: relative rounding
 * 6e-8 per operation, accumulated over sums of ≤ 30 terms and ≤ 6 layers with O(1)
 * activations, stays below ~1e-5; 1e-4 leaves a margin of 10 without hiding a wrong
 * padding or stride, which changes outputs by O(0.1).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { modelFiles, writeModelFiles } from '../../fixtures/tfjsArtifacts';
import { modelZoo, type ZooModel } from '../../fixtures/modelZoo';
import { SeededRandom } from '../../fixtures/seededRandom';
import { ReferenceNet } from '../../reference/float64Net';
import { parseTfjsModel, readTfjsModel } from '../../reference/tfjsModelReader';

let dir: string;
let zoo: ZooModel[];

before(async () => {
  await tf.ready();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-reader-'));
  zoo = modelZoo(new SeededRandom(11));
});

after(() => {
  zoo.forEach((z) => z.model.dispose());
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('readTfjsModel', () => {
  it('matches tfjs-layers model.predict on every zoo model', async () => {
    const rng = new SeededRandom(5);
    for (const z of zoo) {
      const file = writeModelFiles(path.join(dir, z.name), await modelFiles(z.model));
      const net = new ReferenceNet(readTfjsModel(file), z.loss);
      const inputs = Array.from({ length: 4 }, () => z.input(rng));
      const batch = tf.tensor(Float32Array.from(inputs.flatMap((x) => Array.from(x))), [inputs.length, ...z.inputShape]);
      const predicted = z.model.predict(batch) as tf.Tensor;
      const expected = predicted.dataSync();
      const width = expected.length / inputs.length;
      inputs.forEach((x, i) => {
        const got = net.predict(net.initialParams(), x);
        assert.equal(got.length, width, `${z.name}: output size`);
        got.forEach((v, k) => {
          const e = expected[i * width + k] as number;
          assert.ok(Math.abs(v - e) <= 1e-4 * Math.max(1, Math.abs(e)), `${z.name}: example ${i} output ${k}: reference ${v}, tfjs ${e}`);
        });
      });
      tf.dispose([batch, predicted]);
    }
  });

  it('decodes every weight exactly and orders θ by layer, kernel before bias', async () => {
    const z = zoo.find((m) => m.name === 'dense-activations') as ZooModel;
    const files = await modelFiles(z.model);
    const net = new ReferenceNet(parseTfjsModel(files.json, files.weights, z.name), z.loss);
    // d_frozen (trainable: false) holds weights but no parameters.
    const layers = ['d_relu', 'd_sigmoid', 'd_softplus', 'logits'];
    assert.deepEqual(net.paramNames(), layers.flatMap((l) => [`${l}/kernel`, `${l}/bias`]));
    const theta = net.initialParams();
    for (const block of net.blocks) {
      const layer = z.model.getLayer(block.layer);
      const w = layer.getWeights()[block.param === 'kernel' ? 0 : 1] as tf.Tensor;
      assert.deepEqual(Array.from(theta.subarray(block.offset, block.offset + block.size)), Array.from(w.dataSync()), block.name);
    }
  });

  it('concatenates several weight files and groups, and matches names under a scope prefix', async () => {
    const z = zoo.find((m) => m.name === 'functional-cnn') as ZooModel;
    const files = await modelFiles(z.model);
    const specs = (files.json['weightsManifest'] as { weights: { name: string; shape: number[] }[] }[])[0]?.weights ?? [];
    const renamed = specs.map((s) => ({ ...s, name: `outer_scope/${s.name}` }));
    const bytesOf = (s: { shape: number[] }): number => 4 * s.shape.reduce((a, b) => a * b, 1);
    const firstGroupBytes = bytesOf(renamed[0] as { shape: number[] });
    const split = path.join(dir, 'split');
    fs.mkdirSync(split, { recursive: true });
    // Group 1: the first weight, in two files cut mid-tensor; group 2: the rest.
    fs.writeFileSync(path.join(split, 'a.bin'), files.weights.subarray(0, 8));
    fs.writeFileSync(path.join(split, 'b.bin'), files.weights.subarray(8, firstGroupBytes));
    fs.writeFileSync(path.join(split, 'c.bin'), files.weights.subarray(firstGroupBytes));
    const json = {
      ...files.json,
      weightsManifest: [
        { paths: ['a.bin', 'b.bin'], weights: renamed.slice(0, 1) },
        { paths: ['c.bin'], weights: renamed.slice(1) },
      ],
    };
    fs.writeFileSync(path.join(split, 'model.json'), JSON.stringify(json));
    const fromSplit = new ReferenceNet(readTfjsModel(path.join(split, 'model.json')), z.loss);
    const whole = new ReferenceNet(parseTfjsModel(files.json, files.weights, z.name), z.loss);
    assert.deepEqual(fromSplit.paramNames(), ['conv_same/kernel', 'conv_same/bias', 'conv_valid/kernel', 'out/kernel', 'out/bias']);
    assert.deepEqual(Array.from(fromSplit.initialParams()), Array.from(whole.initialParams()));
  });

  it('rejects unsupported layers, naming the file and the layer', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], name: 'd' }), tf.layers.batchNormalization({ name: 'bn' })] });
    const files = await modelFiles(model);
    assert.throws(() => parseTfjsModel(files.json, files.weights, 'bn-model.json'), /bn-model\.json: layer bn \(BatchNormalization\)/);
    model.dispose();
  });
});
