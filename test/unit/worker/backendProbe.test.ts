/**
 * `auto` with both native and wasm available chooses by the model's forward cost: the
 * same choice in every process, so the CLI and the extension give the same scores; the
 * log line and the report say which and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendReason, initBackend, racingBackends } from '../../../src/worker/backend';
import { chooseBackendForModel } from '../../../src/worker/backendProbe';
import { loadModel } from '../../../src/worker/modelFiles';
import { modelFiles, writeModelFiles } from '../../fixtures/tfjsArtifacts';
import { runTrace } from '../../../src/worker/jobs';
import { createTinyWorkspace, QUICK_INFLUENCE } from './tinyWorkspace';

const SMALL = path.resolve(__dirname, '../../../examples/fashion-mnist-small/pretrain/model.json');

/** The paper's MNIST CNN (Table A), saved to a temporary directory. */
async function paperModel(dir: string): Promise<string> {
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, activation: 'tanh', name: 'conv1' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, activation: 'tanh', name: 'conv2' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 4, name: 'head' }),
    ],
  });
  const file = writeModelFiles(dir, await modelFiles(m));
  m.dispose();
  return file;
}

test('multiply-adds per example: the example CNN and the paper CNN', async () => {
  await initBackend('cpu');
  const small = await loadModel(SMALL, 'model');
  // conv1 10·10·6 outputs × 5·5·1, conv2 5·5·8 × 3·3·6, head 4 × 32.
  assert.equal(small.multiplyAdds, 600 * 25 + 200 * 54 + 128);
  small.dispose();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-probe-'));
  try {
    const paper = await loadModel(await paperModel(dir), 'model');
    // conv1 24·24·32 × 25, conv2 8·8·64 × 25·32, head 4 × 1024.
    assert.equal(paper.multiplyAdds, 18432 * 25 + 4096 * 800 + 4096);
    paper.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('auto races native and wasm: wasm for the small CNN, native for the paper CNN', async () => {
  const saved = process.env['MSIF_BACKEND'];
  delete process.env['MSIF_BACKEND'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-probe-'));
  try {
    const choice = await initBackend('auto');
    if (choice.name !== 'native') {
      // Without the native addon there is nothing to choose.
      assert.deepEqual(racingBackends(), []);
      assert.equal(await chooseBackendForModel(SMALL), undefined);
      return;
    }
    assert.deepEqual([...racingBackends()], ['native', 'wasm']);
    // The line names the backend, what decided it, and why the ones before it were not used.
    const small = (await chooseBackendForModel(SMALL)) ?? '';
    assert.match(small, /^backend wasm \(SIMD, \d+ threads?[^)]*\): forward pass 25\.9k multiply-adds per example < 250k, where wasm's lower per-op overhead beats native; not tensorflow \(/);
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(backendReason(), small.slice('backend '.length));
    const paper = await paperModel(dir);
    assert.match((await chooseBackendForModel(paper)) ?? '', /^backend native: forward pass 3\.7M multiply-adds per example ≥ 250k, where native's BLAS kernels beat wasm; not tensorflow \(/);
    assert.equal(tf.getBackend(), 'native');
  } finally {
    if (saved !== undefined) process.env['MSIF_BACKEND'] = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the trace report says which backend ran and why (diagnostics.backendReason)', async () => {
  const saved = process.env['MSIF_BACKEND'];
  delete process.env['MSIF_BACKEND'];
  const ws = await createTinyWorkspace(QUICK_INFLUENCE);
  try {
    const report = await runTrace(ws.config, { test: '0' });
    const reason = report.diagnostics.backendReason ?? '';
    assert.equal(reason, backendReason());
    assert.ok(reason.startsWith(report.diagnostics.backend), `${report.diagnostics.backend} | ${reason}`);
    // auto: every backend before the one used is named with why it was not.
    if (report.diagnostics.backend !== 'tensorflow') assert.match(reason, /; not tensorflow \(@tensorflow\/tfjs-node-gpu/);
    if (racingBackends().length > 0) assert.match(reason, /: forward pass 960 multiply-adds per example < 250k/);
  } finally {
    await ws.dispose();
    if (saved !== undefined) process.env['MSIF_BACKEND'] = saved;
  }
});
