/**
 * The wasm backend in Node on its threaded-SIMD binary (src/worker/backendWasmThreads.ts):
 * the pool really has the threads asked for, results match the single-threaded binary,
 * the patched Node functions are restored, and a process that used it still exits on
 * its own (the CLI relies on that). Each case starts fresh processes: tfjs initialises
 * wasm once per process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '../../..');

/** Runs `body` (JavaScript in an async function; `require` goes through tsx) in a fresh Node with `env`; returns its JSON line. */
function run(body: string, env: NodeJS.ProcessEnv): { json: Record<string, unknown>; ms: number } {
  const script = `
const tf = require('@tensorflow/tfjs');
const os = require('node:os');
const wt = require('node:worker_threads');
const { initBackend } = require('./src/worker/backend');
const { pthreadsUnavailable } = require('./src/worker/backendWasmThreads');
const cpusBefore = os.cpus;
const WorkerBefore = wt.Worker;
(async () => {
${body}
})();
`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: REPO,
    env: childEnv(env),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  const ms = Date.now() - t0;
  assert.equal(r.status, 0, `child failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, `no JSON line in:\n${r.stdout}\n${r.stderr}`);
  return { json: JSON.parse(line) as Record<string, unknown>, ms };
}

/** The child's environment: ours with `extra`, without the test runner's marker (a child that has it behaves as a test file). */
function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MSIF_BACKEND: '', ...extra };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

/** A matmul and a conv whose outputs the two binaries must agree on, and the pool's state. */
const WORK = `
  const choice = await initBackend('wasm');
  const a = tf.randomUniform([256, 300], -1, 1, 'float32', 1);
  const b = tf.randomUniform([300, 200], -1, 1, 'float32', 2);
  const x = tf.randomUniform([16, 20, 20, 8], -1, 1, 'float32', 3);
  const k = tf.randomUniform([5, 5, 8, 16], -1, 1, 'float32', 4);
  const mm = Array.from(tf.matMul(a, b).dataSync());
  const conv = Array.from(tf.conv2d(x, k, 1, 'valid').dataSync());
  const pthread = tf.backend().wasm.PThread;
  console.log(JSON.stringify({
    reason: choice.reason,
    multithread: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    running: pthread ? pthread.runningWorkers.length : 0,
    restored: os.cpus === cpusBefore && wt.Worker === WorkerBefore,
    preflight: (await pthreadsUnavailable()) ?? null,
    mm, conv,
  }));
  // No process.exit: the process must end by itself.
`;

test('MSIF_WASM_THREADS=2 runs a pool of 2 threads with the results of the single-threaded binary, and exits by itself', () => {
  const one = run(WORK, { MSIF_WASM_THREADS: '1' }).json;
  const { json: two, ms } = run(WORK, { MSIF_WASM_THREADS: '2' });

  assert.match(String(one['reason']), /^wasm \(SIMD, 1 thread; MSIF_WASM_THREADS\): as requested$/);
  assert.equal(one['multithread'], false);
  assert.equal(one['running'], 0);

  assert.match(String(two['reason']), /^wasm \(SIMD, 2 threads; MSIF_WASM_THREADS\): as requested$/);
  assert.equal(two['multithread'], true);
  // pthreadpool(2) = the calling thread + 1 pool thread, alive in a worker thread.
  assert.ok((two['running'] as number) >= 1, `running pthreads: ${String(two['running'])}`);
  assert.equal(two['restored'], true, 'os.cpus and worker_threads.Worker are restored after start-up');
  assert.equal(two['preflight'], null, 'Node runs Emscripten pthreads');

  // Same kernels (XNNPACK) on the same inputs: threads split the output, not the sums.
  for (const key of ['mm', 'conv'] as const) {
    const p = one[key] as number[];
    const q = two[key] as number[];
    assert.equal(p.length, q.length);
    const scale = Math.max(...p.map(Math.abs));
    const worst = Math.max(...p.map((v, i) => Math.abs(v - (q[i] as number))));
    assert.ok(worst <= 1e-6 * scale, `${key}: max |1 thread − 2 threads| = ${worst} (scale ${scale})`);
  }
  // It exited on its own (spawnSync returned, status 0), well before the timeout.
  assert.ok(ms < 120_000);
});
