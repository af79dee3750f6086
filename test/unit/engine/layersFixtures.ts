/**
 * Tiny tfjs-layers models of every supported layer type, saved exactly as tfjs writes
 * them, for engine tests. tfjs-layers is used only to build and save the models and as a
 * reference forward pass; none of the engine's maths comes from it.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelArtifacts } from '../../../src/engine/model/model';

/** model.json + weights of a tfjs-layers model, as the engine loads them from disk. */
export async function artifactsOf(model: tf.LayersModel, file = 'model.json'): Promise<ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.weightData || !saved.weightSpecs) throw new Error('nothing saved');
  const data = saved.weightData as ArrayBuffer;
  return {
    modelJson: { modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] },
    weightData: data,
    file,
  };
}

export interface LayerCase {
  readonly name: string;
  readonly build: () => tf.LayersModel;
  /** Inputs for a batch of n examples. */
  readonly input: (n: number) => tf.Tensor;
  readonly classes: number;
}

/** One small model per layer type (and activation), with seeded initial weights. */
export function layerCases(): LayerCase[] {
  const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.6, seed });
  const dense = (units: number, activation: string, name: string, seed: number, inputShape?: number[]) =>
    tf.layers.dense({ units, activation: activation as 'linear', name, kernelInitializer: init(seed), biasInitializer: init(seed + 100), ...(inputShape ? { inputShape } : {}) });
  const images = (n: number, h: number, w: number, c: number) => tf.randomNormal([n, h, w, c], 0, 1, 'float32', 7);
  return [
    {
      name: 'dense-tanh-relu-sigmoid-softplus-elu',
      classes: 3,
      input: (n) => tf.randomNormal([n, 4], 0, 1, 'float32', 3),
      build: () =>
        tf.sequential({
          layers: [
            dense(5, 'tanh', 'd1', 1, [4]),
            dense(4, 'relu', 'd2', 2),
            dense(4, 'sigmoid', 'd3', 3),
            dense(3, 'softplus', 'd4', 4),
            tf.layers.activation({ activation: 'elu', name: 'act' }),
            tf.layers.dropout({ rate: 0.5, name: 'drop' }),
            dense(3, 'linear', 'head', 5),
          ],
        }),
    },
    {
      name: 'dense-sigmoid-head',
      classes: 1,
      input: (n) => tf.randomNormal([n, 4], 0, 1, 'float32', 4),
      build: () => tf.sequential({ layers: [dense(5, 'tanh', 'd1', 41, [4]), dense(1, 'linear', 'head', 42)] }),
    },
    {
      name: 'conv2d-valid-stride-maxpool',
      classes: 3,
      input: (n) => images(n, 7, 7, 2),
      build: () =>
        tf.sequential({
          layers: [
            tf.layers.conv2d({ inputShape: [7, 7, 2], filters: 3, kernelSize: 3, strides: 1, activation: 'tanh', name: 'c1', kernelInitializer: init(11), biasInitializer: init(12) }),
            tf.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
            tf.layers.flatten({ name: 'flat' }),
            dense(3, 'linear', 'head', 13),
          ],
        }),
    },
    {
      name: 'conv2d-same-stride2-avgpool-same',
      classes: 2,
      input: (n) => images(n, 6, 5, 1),
      build: () =>
        tf.sequential({
          layers: [
            tf.layers.conv2d({ inputShape: [6, 5, 1], filters: 2, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'tanh', name: 'c1', kernelInitializer: init(21), biasInitializer: init(22) }),
            tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'p1' }),
            tf.layers.conv2d({ filters: 2, kernelSize: 2, activation: 'sigmoid', name: 'c2', kernelInitializer: init(23), biasInitializer: init(24) }),
            tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'p2' }),
            tf.layers.globalAveragePooling2d({ name: 'gap' }),
            dense(2, 'linear', 'head', 25),
          ],
        }),
    },
    {
      name: 'functional-embedding-gap1d',
      classes: 3,
      input: (n) => tf.cast(tf.mul(tf.randomUniform([n, 5], 0, 1, 'float32', 9), 11.99), 'int32'),
      build: () => {
        const inp = tf.input({ shape: [5], dtype: 'int32', name: 'tokens' });
        const e = tf.layers.embedding({ inputDim: 12, outputDim: 3, name: 'emb', embeddingsInitializer: init(31) }).apply(inp) as tf.SymbolicTensor;
        const d = dense(4, 'tanh', 'proj', 32).apply(e) as tf.SymbolicTensor;
        const g = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(d) as tf.SymbolicTensor;
        const o = dense(3, 'linear', 'head', 33).apply(g) as tf.SymbolicTensor;
        return tf.model({ inputs: inp, outputs: o });
      },
    },
  ];
}
