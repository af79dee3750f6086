/**
 * Where the worker finds tfjs-node: in the directory "MSIF: Install TensorFlow backend"
 * installs into (InitializeParams.backendPackagesDir), before the normal resolution.
 *
 * The `@tensorflow/tfjs-node` here is a FAKE, a test fixture of the resolution path only:
 * real tfjs-node cannot be installed on this machine (its libtensorflow download is
 * blocked), so the fixture has the files the worker checks (package.json and
 * lib/napi-v8/tfjs_binding.node, empty and never loaded) and an index.js that registers
 * the cpu backend's kernels under the name `tensorflow`, as tfjs-node registers its own,
 * through its own dependency `@tensorflow/tfjs` (a link to ours, where npm would put a
 * copy). It says nothing about tfjs-node's speed or numerics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MsifError } from '../../../src/common/errors';
import { initBackend } from '../../../src/worker/backend';
import { WorkerClient } from '../../../src/worker/workerClient';

const REPO = path.resolve(__dirname, '../../..');
const WORKER = path.join(REPO, 'dist', 'worker.js');
const MARKER = '__msifFakeTfjsNodeLoadedFrom';

let root: string;
/** A prefix with the fake package and its binding file. */
let installed: string;
/** A prefix with the package but without its binding, as a blocked install would leave it. */
let withoutBinding: string;

/** Writes the fake `@tensorflow/tfjs-node` under the npm prefix `prefix`. */
function writeFakeTfjsNode(prefix: string, binding: boolean): string {
  const dir = path.join(prefix, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
  fs.writeFileSync(
    path.join(dir, 'index.js'),
    `// TEST FIXTURE, not tfjs-node: registers the cpu kernels as the 'tensorflow' backend.
const tf = require('@tensorflow/tfjs');
globalThis[${JSON.stringify(MARKER)}] = __filename;
const cpu = tf.findBackendFactory('cpu');
for (const k of tf.getKernelsForBackend('cpu')) if (!tf.getKernel(k.kernelName, 'tensorflow')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
tf.registerBackend('tensorflow', () => cpu(), 0);
`,
  );
  if (binding) {
    fs.mkdirSync(path.join(dir, 'lib', 'napi-v8'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
  }
  // Its dependency, where npm would have installed it: a link to the repository's tfjs.
  fs.symlinkSync(path.join(REPO, 'node_modules', '@tensorflow', 'tfjs'), path.join(prefix, 'node_modules', '@tensorflow', 'tfjs'), 'dir');
  return dir;
}

describe('tfjs-node from the extension storage directory', () => {
  const savedBackend = process.env['MSIF_BACKEND'];
  before(() => {
    delete process.env['MSIF_BACKEND'];
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-backends-'));
    installed = path.join(root, 'installed');
    withoutBinding = path.join(root, 'blocked');
    writeFakeTfjsNode(installed, true);
    writeFakeTfjsNode(withoutBinding, false);
  });
  after(() => {
    if (savedBackend !== undefined) process.env['MSIF_BACKEND'] = savedBackend;
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('a package there without its native library is skipped, saying where and why', async () => {
    await assert.rejects(initBackend('tensorflow', { packageDirs: [withoutBinding] }), (e: unknown) => {
      assert.ok(e instanceof MsifError);
      const where = path.join(withoutBinding, 'node_modules', '@tensorflow', 'tfjs-node');
      assert.ok(e.message.includes(`@tensorflow/tfjs-node in ${where} is installed without its native library`), e.message);
      return true;
    });
    assert.equal((globalThis as Record<string, unknown>)[MARKER], undefined, 'nothing was loaded');
  });

  test('a package there is loaded before the one in node_modules', async () => {
    const choice = await initBackend('tensorflow', { packageDirs: [installed] });
    const dir = path.join(installed, 'node_modules', '@tensorflow', 'tfjs-node');
    assert.equal(choice.name, 'tensorflow');
    assert.equal((globalThis as Record<string, unknown>)[MARKER], path.join(dir, 'index.js'));
    assert.ok(choice.reason.startsWith(`tensorflow (@tensorflow/tfjs-node from ${dir})`), choice.reason);
    assert.deepEqual(Array.from(tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync()), [4, 6]);
  });

  test('the worker gets the directory in the handshake and auto picks tensorflow first', { skip: fs.existsSync(WORKER) ? false : 'dist/worker.js is not built (npm run build)' }, async () => {
    const client = await WorkerClient.start({ workerPath: WORKER, execPath: process.execPath, backend: 'auto', backendPackagesDir: installed });
    try {
      assert.equal(client.info.backend, 'tensorflow');
      assert.match(client.info.backendReason, /^tensorflow \(@tensorflow\/tfjs-node from .*installed.*\): the first available backend/);
    } finally {
      await client.dispose();
    }
    const plain = await WorkerClient.start({ workerPath: WORKER, execPath: process.execPath, backend: 'auto' });
    try {
      assert.notEqual(plain.info.backend, 'tensorflow');
      assert.match(plain.info.backendReason, /not tensorflow \(@tensorflow\/tfjs-node-gpu/);
    } finally {
      await plain.dispose();
    }
  });
});
