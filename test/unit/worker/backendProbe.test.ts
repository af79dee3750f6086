/**
 * `auto` with both native and wasm available times a Hessian-vector product of the model
 * on each and keeps the faster, once per model file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, racingBackends } from '../../../src/worker/backend';
import { chooseBackendForModel } from '../../../src/worker/backendProbe';

const MODEL = path.resolve(__dirname, '../../../examples/fashion-mnist-small/pretrain/model.json');

test('the probe picks a racing backend by measurement and remembers it per model', async () => {
  const saved = process.env['MSIF_BACKEND'];
  delete process.env['MSIF_BACKEND'];
  try {
    const choice = await initBackend('auto');
    const racing = racingBackends();
    if (choice.name !== 'native') {
      // Without the native addon there is nothing to race: the probe does nothing.
      assert.deepEqual(racing, []);
      assert.equal(await chooseBackendForModel(MODEL, 'softmax_cross_entropy'), undefined);
      return;
    }
    assert.deepEqual([...racing], ['native', 'wasm']);
    const line = await chooseBackendForModel(MODEL, 'softmax_cross_entropy');
    assert.match(line ?? '', /^backend (native|wasm): fastest on this model \(Hessian-vector product on 64 examples: (native|wasm) \d+ ms, (native|wasm) \d+ ms\)$/);
    const winner = tf.getBackend();
    assert.ok(racing.includes(winner));
    assert.ok(line?.startsWith(`backend ${winner}:`));
    // Cached: no second measurement, same backend.
    await tf.setBackend(winner === 'native' ? 'wasm' : 'native');
    assert.equal(await chooseBackendForModel(MODEL, 'softmax_cross_entropy'), undefined);
    assert.equal(tf.getBackend(), winner);
  } finally {
    if (saved !== undefined) process.env['MSIF_BACKEND'] = saved;
  }
});
