/**
 * The influence engine frees every tensor it makes: after a full run and after a
 * cancelled one, tf.memory().numTensors is back at its baseline.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Model } from '../../../src/engine/model/model';
import { BatchSet, toTensorBatch } from '../../../src/engine/batches';
import { influenceScores, type InfluenceProblem } from '../../../src/engine/influence/influenceScores';
import { DEFAULT_INFLUENCE } from '../../../src/common/workspaceConfig';
import { isCancelled } from '../../../src/common/errors';
import { artifactsOf } from './layersFixtures';
import { InMemorySource } from './inMemorySource';
import { sampleIndices, seededRandom } from '../../../src/engine/influence/sampling';
import { peakTensorBytes, resetTensorMemoryPeak } from '../../../src/engine/tensorMemory';

async function problem(solver: 'cg' | 'exact', embedding: 'fixed' | 'updated', pretrainCount = 50): Promise<InfluenceProblem> {
  const init = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed });
  const build = (classes: number, head: string) =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', name: 'emb', kernelInitializer: init(1), biasInitializer: init(2) }),
        tf.layers.dense({ units: classes, name: head, kernelInitializer: init(3), biasInitializer: init(4) }),
      ],
    });
  const pre = Model.fromArtifacts(await artifactsOf(build(3, 'pre_head')));
  const fin = Model.fromArtifacts(await artifactsOf(build(2, 'fin_head')));
  const r = seededRandom(5);
  const data = (n: number, classes: number) =>
    new InMemorySource(Float32Array.from({ length: n * 3 }, () => r() * 2 - 1), Float32Array.from({ length: n }, () => Math.floor(r() * classes)), [3]);
  const testSource = data(4, 2);
  const test: Parameters<typeof BatchSet.of>[0] = [];
  for await (const b of testSource.batches(4)) test.push(toTensorBatch(fin, [], b));
  return {
    pretrain: { model: pre, loss: 'softmax_cross_entropy', train: data(pretrainCount, 3) },
    finetune: { model: fin, loss: 'softmax_cross_entropy', train: data(30, 2) },
    sharedLayers: ['emb'],
    test: BatchSet.of(test),
    case: embedding,
    settings: { ...DEFAULT_INFLUENCE, solver, batchSize: 16, hessianSamples: 40, cgIterations: 30, finetuneDamping: 0.01 },
  };
}

describe('influence engine tensor memory', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  // Scoring streams the pretraining set batch by batch and the Hessian sample is fixed
  // (hessianSamples = 40): the tensor high-water mark must not grow with m.
  for (const embedding of ['fixed', 'updated'] as const) {
    it(`${embedding}: peak tensor memory is the same for m = 50 and m = 2,000`, async () => {
      const peaks: number[] = [];
      for (const m of [50, 2000]) {
        const p = await problem('cg', embedding, m);
        resetTensorMemoryPeak();
        const start = tf.memory().numBytes;
        const res = await influenceScores(p);
        assert.equal(res.scores.length, m);
        peaks.push(peakTensorBytes() - start);
        p.test.dispose();
        p.pretrain.model.dispose();
        p.finetune.model.dispose();
      }
      assert.ok((peaks[0] as number) > 0);
      assert.equal(peaks[1], peaks[0], `peak tensor bytes ${peaks.join(' vs ')}`);
    });
  }

  for (const solver of ['cg', 'exact'] as const) {
    for (const embedding of ['fixed', 'updated'] as const) {
      it(`${solver} / ${embedding}: no tensor leaks after a run`, async () => {
        const p = await problem(solver, embedding);
        const baseline = tf.memory().numTensors;
        const res = await influenceScores(p);
        assert.equal(res.scores.length, 50);
        assert.ok(res.scores.every(Number.isFinite));
        assert.equal(tf.memory().numTensors, baseline);
      });
    }
  }

  it('no tensor leaks after a cancellation mid-solve', async () => {
    const p = await problem('cg', 'fixed');
    const baseline = tf.memory().numTensors;
    const ac = new AbortController();
    await assert.rejects(
      influenceScores(p, {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.phase === 'pretrain-ihvp') ac.abort();
        },
      }),
      (e) => isCancelled(e),
    );
    assert.equal(tf.memory().numTensors, baseline);
  });
});

describe('seeded Hessian sampling', () => {
  it('picks k distinct indices, ascending, the same for the same seed', () => {
    const a = sampleIndices(1000, 50, 7);
    assert.equal(a.length, 50);
    assert.equal(new Set(a).size, 50);
    assert.deepEqual(a, [...a].sort((x, y) => x - y));
    assert.ok(a.every((i) => i >= 0 && i < 1000));
    assert.deepEqual(sampleIndices(1000, 50, 7), a);
    assert.notDeepEqual(sampleIndices(1000, 50, 8), a);
    assert.deepEqual(sampleIndices(5, 10, 1), [0, 1, 2, 3, 4]);
  });

  it('gives bit-identical scores for the same inputs, seed and backend, and other scores for another seed', async () => {
    const p = await problem('cg', 'fixed');
    const sampled = { ...p, settings: { ...p.settings, hessianSamples: 20 } };
    const a = await influenceScores(sampled);
    const b = await influenceScores(sampled);
    assert.deepEqual(Array.from(a.scores), Array.from(b.scores));
    assert.equal(a.hessianSampleCount, 20);
    const c = await influenceScores({ ...sampled, settings: { ...sampled.settings, seed: 1 } });
    assert.notDeepEqual(Array.from(c.scores), Array.from(a.scores));
  });
});
