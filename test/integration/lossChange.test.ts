/**
 * `lossChange`: the change of a summed loss between two float32 weight vectors, by
 * quadrature of the float32 gradient along the segment, against the same difference
 * computed in float64 by the reference network (`test/reference/float64Net.ts`).
 *
 * Why it exists: a leave-one-out run changes the test loss by ~1e-6 of its value or less;
 * two float32 loss sums differ by their round-off there. The quadrature keeps the float32
 * gradient's relative accuracy.
 *
 * Tolerance: 1e-4 relative. Measured here (wasm): 5e-7, 2e-7 and 3e-7 for steps of 1e-2,
 * 1e-4 and 1e-6 of the weights; the difference of two float32 loss sums was off by 8e-6,
 * 1.2e-3 and 0.38 (38%) on the same steps.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ParamBlock } from '../../src/engine/autodiff/hessianVectorProduct';
import { BatchSet } from '../../src/engine/batches';
import { seededRandom } from '../../src/engine/influence/sampling';
import { lossChange } from '../../src/engine/validate/retrainStages';
import { initBackend } from '../../src/worker/backend';
import { loadWorkspace } from '../../src/worker/jobs';
import type { LoadedWorkspace } from '../../src/worker/jobs';
import { buildTinyWorkspace } from '../fixtures/tinyWorkspaces';
import { loadReferenceWorkspace } from '../reference/referenceWorkspace';
import type { ReferenceWorkspace } from '../reference/referenceWorkspace';

describe('lossChange: test-loss change by gradient quadrature, against float64', () => {
  let root: string;
  let ws: LoadedWorkspace;
  let ref: ReferenceWorkspace;
  let test: BatchSet;
  let block: ParamBlock;
  let saved: Float64Array;

  before(async () => {
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-losschange-'));
    const built = await buildTinyWorkspace(root, { kind: 'cnn', case: 'updated', seed: 2 });
    ws = await loadWorkspace(built.msifPath);
    ref = loadReferenceWorkspace(built.msifPath);
    test = await BatchSet.load(ws.finetuneModel, ws.finetuneTest, 16);
    block = ParamBlock.all(ws.finetuneModel);
    saved = block.values();
  });
  after(async () => {
    test.dispose();
    ws.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Σ_t f(x_t) in float64 at weights given in the engine's order (the reference's, checked below). */
  const float64Loss = (params: Float64Array): number => ref.finetune.test.reduce((s, e) => s + ref.finetune.net.exampleLoss(params, e), 0);
  /** saved + scale·|saved|·u, u uniform in [−1, 1] (seeded), rounded to float32 as the model holds it. */
  const moved = (scale: number, seed: number): Float64Array => {
    const r = seededRandom(seed);
    return Float64Array.from(Float32Array.from(saved.map((v) => v + scale * Math.max(Math.abs(v), 1e-3) * (2 * r() - 1))));
  };

  it('the engine and the reference hold the same weights in the same order', () => {
    assert.deepEqual(Array.from(saved), Array.from(ref.finetune.savedParams));
  });

  for (const scale of [1e-2, 1e-4, 1e-6]) {
    it(`matches L(b) − L(a) in float64 within 1e-4 for a step of ${scale} of the weights`, async () => {
      const b = moved(scale, 7);
      const exact = float64Loss(b) - float64Loss(saved);
      const change = await lossChange(ws.config.finetune.loss, block, test, saved, b);
      assert.ok(exact !== 0);
      assert.ok(Math.abs(change - exact) <= 1e-4 * Math.abs(exact), `quadrature ${change}, float64 ${exact}`);
      assert.equal(await lossChange(ws.config.finetune.loss, block, test, b, b), 0, 'no step, no change');
    });
  }
});
