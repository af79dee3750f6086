/**
 * The identity-Hessian baseline (the paper's Fig. 3): `influenceScores` with every inverse
 * Hessian replaced by I, against the formulas with I substituted, evaluated in float64
 * on the reference network:
 *
 *   Case 1: I(z, xt) = −[∇_W f − (∂²F/∂W∂Θ) ∇_Θ f] · ∇_W g(z)
 *   Case 2: I(z, xt) = −2α ∇_W f · ∇_W g(z)
 *
 * (contract §1 with (∂²F/∂Θ²)⁻¹, K⁻¹ and (∂²G)⁻¹ → I). The engine computes in float32
 * (gradients ~1e-6 relative), so each score must match within 1e-4 of the largest |score|.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchSet } from '../../../../src/engine/batches';
import { influenceScores } from '../../../../src/engine/influence/influenceScores';
import { initBackend } from '../../../../src/worker/backend';
import { loadWorkspace } from '../../../../src/worker/jobs';
import { buildTinyWorkspace } from '../../../fixtures/tinyWorkspaces';
import { dot, gather, matVec, subMatrix } from '../../../reference/denseLinearAlgebra';
import { loadReferenceWorkspace } from '../../../reference/referenceWorkspace';

describe('identity-Hessian baseline', () => {
  let root: string;
  before(async () => {
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-identity-'));
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  for (const kase of ['fixed', 'updated'] as const) {
    it(`matches the formula with I for every inverse (mlp, ${kase === 'fixed' ? 'Case 1' : 'Case 2'})`, async () => {
      const built = await buildTinyWorkspace(path.join(root, kase), { kind: 'mlp', case: kase, seed: 2 });
      const ws = await loadWorkspace(built.msifPath);
      const test = await BatchSet.load(ws.finetuneModel, ws.finetuneTest, 64, [0, 3]);
      let engine: Float64Array;
      try {
        const result = await influenceScores(
          {
            pretrain: { model: ws.pretrainModel, loss: ws.config.pretrain.loss, train: ws.pretrainTrain },
            finetune: { model: ws.finetuneModel, loss: ws.config.finetune.loss, train: ws.finetuneTrain },
            sharedLayers: ws.config.sharedLayers,
            test,
            case: kase,
            settings: ws.config.influence,
          },
          { identityHessians: true },
        );
        engine = result.scores;
        assert.ok(result.solves.every((s) => s.solver === 'identity' && s.iterations === 0));
      } finally {
        test.dispose();
        ws.dispose();
      }

      const ref = loadReferenceWorkspace(built.msifPath);
      const { pretrain, finetune } = ref;
      const Pf = finetune.net.paramCount;
      const gTest = new Float64Array(Pf);
      for (const g of finetune.net.perExampleGradients(finetune.savedParams, [finetune.test[0], finetune.test[3]].map((e) => e as NonNullable<typeof e>))) {
        for (let i = 0; i < Pf; i++) gTest[i] = (gTest[i] as number) + (g[i] as number);
      }
      const gW = gather(gTest, ref.sharedInFinetune);
      let qW: Float64Array;
      if (kase === 'fixed') {
        const hF = finetune.net.hessian(finetune.savedParams, finetune.train);
        const mixed = matVec(subMatrix(hF, Pf, ref.sharedInFinetune, ref.otherInFinetune), ref.sharedInFinetune.length, ref.otherInFinetune.length, gather(gTest, ref.otherInFinetune));
        qW = gW.map((v, i) => v - (mixed[i] as number));
      } else {
        qW = gW.map((v) => 2 * ref.alpha * v);
      }
      const expected = pretrain.net.perExampleGradients(pretrain.savedParams, pretrain.train).map((g) => -dot(qW, gather(g, ref.sharedInPretrain)));
      const scale = Math.max(...expected.map(Math.abs));
      assert.ok(scale > 0);
      expected.forEach((e, i) => {
        assert.ok(Math.abs((engine[i] as number) - e) <= 1e-4 * scale, `example ${i}: engine ${engine[i]}, formula ${e}`);
      });
    });
  }
});
