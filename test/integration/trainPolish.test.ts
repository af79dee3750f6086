/**
 * `training.polishSteps`: after the epochs, full-batch L-BFGS on each stage's objective.
 * On a small workspace trained for a few epochs (‖∇‖ left around 1e-2–1e-1), polishing must
 * bring both stages' full-objective gradient norm (as `msif train` reports it, computed
 * independently of the optimiser) to the tolerance, in Case 1 (W frozen while finetuning)
 * and Case 2 (α‖W − W̄‖² included), and progress must rise through the polishing steps.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { POLISH_GRADIENT_TOLERANCE } from '../../src/common/workspaceConfig';
import type { JobProgress } from '../../src/protocol/progress';
import { initBackend } from '../../src/worker/backend';
import { runTrain } from '../../src/worker/jobs';
import { makeCleanseWorkspace } from '../fixtures/cleanseWorkspace';

/** A workspace whose msif.json gets `edit` applied. */
async function workspace(dir: string, edit: (config: Record<string, Record<string, unknown>>) => void): Promise<string> {
  const { msifPath } = await makeCleanseWorkspace(dir, { seed: 5, pretrainCount: 60, finetuneCount: 40, testCount: 20, epochs: 3 });
  const config = JSON.parse(await fs.readFile(msifPath, 'utf8')) as Record<string, Record<string, unknown>>;
  edit(config);
  await fs.writeFile(msifPath, JSON.stringify(config, null, 2));
  return msifPath;
}

describe('msif train with polishing (training.polishSteps)', () => {
  let tmp: string;
  before(async () => {
    await initBackend('wasm');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-polish-'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  for (const embedding of ['fixed', 'updated'] as const) {
    test(`Case ${embedding === 'fixed' ? 1 : 2}: polishing takes both stages to ‖∇‖ ≤ ${POLISH_GRADIENT_TOLERANCE}; without it they stay far above`, async () => {
      const setCase = (c: Record<string, Record<string, unknown>>): void => {
        c['finetune'] = { ...c['finetune'], embedding };
      };
      const plain = await runTrain(await workspace(path.join(tmp, `${embedding}-plain`), setCase));
      assert.equal(plain.pretrain.polish, undefined);
      assert.ok(plain.pretrain.gradientNorm > 1e3 * POLISH_GRADIENT_TOLERANCE, `unpolished pretraining ‖∇‖ ${plain.pretrain.gradientNorm}`);

      const progress: JobProgress[] = [];
      const polishedPath = await workspace(path.join(tmp, `${embedding}-polished`), (c) => {
        setCase(c);
        c['training'] = { ...c['training'], polishSteps: 2000 };
      });
      const polished = await runTrain(polishedPath, { onProgress: (p) => progress.push(p) });
      for (const stage of ['pretrain', 'finetune'] as const) {
        const r = polished[stage];
        assert.equal(r.polish?.stop, 'converged', `${stage}: ${JSON.stringify(r.polish)}, ‖∇‖ ${r.gradientNorm}`);
        // The reported norm is train's own full-batch evaluation in float32 batches; the
        // optimiser stopped at ≤ tolerance on the same objective (2× for float32 summation).
        assert.ok(r.gradientNorm <= 2 * POLISH_GRADIENT_TOLERANCE, `${stage}: ‖∇‖ ${r.gradientNorm} after ${r.polish?.steps} steps`);
        assert.ok(r.finalLoss <= plain[stage].finalLoss + 1e-9, `${stage}: loss ${r.finalLoss} polished, ${plain[stage].finalLoss} not`);
      }
      assert.ok(progress.some((p) => /polishing step/.test(p.message ?? '')), 'progress names the polishing steps');
      const fractions = progress.map((p) => p.fraction ?? 0);
      assert.ok(fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= (fractions[i - 1] as number) - 1e-12)), `fractions rise: ${fractions.join(' ')}`);
    });
  }

  test('training.polishSteps must be a whole number ≥ 0', async () => {
    const bad = await workspace(path.join(tmp, 'bad'), (c) => {
      c['training'] = { ...c['training'], polishSteps: -1 };
    });
    await assert.rejects(runTrain(bad), /training\.polishSteps/);
  });
});
