/**
 * The leave-one-out engine (`leaveOneOut`) on a tiny workspace: the models are back at
 * their saved weights and no tensor is left behind, after a finished check and after a
 * cancelled one.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isCancelled } from '../../src/common/errors';
import { BatchSet } from '../../src/engine/batches';
import { leaveOneOut } from '../../src/engine/validate/leaveOneOut';
import type { LeaveOneOutProblem } from '../../src/engine/validate/leaveOneOut';
import { initBackend } from '../../src/worker/backend';
import { loadWorkspace } from '../../src/worker/jobs';
import type { LoadedWorkspace } from '../../src/worker/jobs';
import { buildTinyWorkspace } from '../fixtures/tinyWorkspaces';

describe('leaveOneOut: state and memory', () => {
  let root: string;
  let ws: LoadedWorkspace;
  let finetune: BatchSet;
  let test: BatchSet;
  let problem: LeaveOneOutProblem;
  const settings = { gradientTolerance: 1e-7, maxIterations: 300, memory: 10, proximal: { pretrain: 0, finetune: 0 } };
  const flat = (): number[] => [...ws.pretrainModel.flatParams(), ...ws.finetuneModel.flatParams()];

  before(async () => {
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-loo-'));
    const built = await buildTinyWorkspace(root, { kind: 'mlp', case: 'updated', seed: 1 });
    ws = await loadWorkspace(built.msifPath);
    finetune = await BatchSet.load(ws.finetuneModel, ws.finetuneTrain, 64);
    test = await BatchSet.load(ws.finetuneModel, ws.finetuneTest, 64, [0, 1]);
    problem = {
      pretrain: { model: ws.pretrainModel, loss: ws.config.pretrain.loss, train: ws.pretrainTrain },
      finetune: { model: ws.finetuneModel, loss: ws.config.finetune.loss, train: finetune },
      sharedLayers: ws.config.sharedLayers,
      test,
      case: 'updated',
      alpha: ws.config.influence.alpha,
      batchSize: 64,
    };
  });

  after(async () => {
    finetune.dispose();
    test.dispose();
    ws.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('restores the saved weights and frees every tensor it made', async () => {
    const saved = flat();
    const tensors = tf.memory().numTensors;
    const runs: string[] = [];
    const result = await leaveOneOut(problem, [{ index: 5, sample: 'random' }], settings, 0, { onRun: (label) => runs.push(label) });
    assert.equal(runs.length, 3, 'base, noise floor, one example');
    assert.equal(result.rows.length, 1);
    assert.ok((result.rows[0]?.run.pretrain.iterations ?? 0) > 0, 'removing an example moves the pretrained weights');
    assert.notEqual(result.rows[0]?.actual, 0);
    assert.deepEqual(flat(), saved);
    assert.equal(tf.memory().numTensors, tensors);
  });

  it('a cancel stops it with CancelledError, restores the weights and frees every tensor', async () => {
    const saved = flat();
    const tensors = tf.memory().numTensors;
    const controller = new AbortController();
    let steps = 0;
    await assert.rejects(
      leaveOneOut(problem, [{ index: 5, sample: 'random' }, { index: 9, sample: 'random' }], { ...settings, gradientTolerance: 1e-14, maxIterations: 100000 }, 0, {
        signal: controller.signal,
        onProgress: () => {
          if (++steps === 20) controller.abort();
        },
      }),
      (e: unknown) => isCancelled(e),
    );
    assert.deepEqual(flat(), saved);
    assert.equal(tf.memory().numTensors, tensors);
  });
});
