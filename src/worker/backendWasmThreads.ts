/**
 * Multithreaded wasm in Node: makes `@tensorflow/tfjs-backend-wasm` start its
 * threaded-SIMD binary (XNNPACK on a pthread pool of worker threads) instead of the
 * single-threaded SIMD one it always picks under Node.
 *
 * ## Why tfjs needs help (tfjs-backend-wasm 4.22)
 * 1. `dist/flags_wasm.js`: the `WASM_HAS_MULTITHREAD_SUPPORT` flag returns false whenever
 *    `IS_NODE` (a TODO naming tensorflow/tfjs#3830). Set to true here.
 * 2. `dist/backend_wasm.js` `init()`: the pthread worker script is handed to Emscripten as
 *    a `blob:` URL (`URL.createObjectURL`), which Node's `worker_threads.Worker` refuses
 *    (it takes a file path, or code with `eval: true`). {@link PthreadWorker} runs the
 *    same script (`wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`) with `eval: true`.
 * 3. The main script each pthread worker loads is a Blob of the Emscripten factory's
 *    `toString()`, taken from tfjs's rollup bundle, where `require("fs")` etc. were hoisted
 *    to module variables (`require$$0`…) that do not exist in the worker
 *    ("require$$0 is not defined"). The workers load the factory as Emscripten emitted it
 *    instead (`wasm-out/tfjs-backend-wasm-threaded-simd.js`, bundled here), identical
 *    otherwise.
 * 4. `src/cc/backend.cc` caps the pool at `emscripten_num_logical_cores() / 2` ("many
 *    x86-64 processors have 2 threads per core"), which is 1 on a 2-core machine, whatever
 *    `setThreadsCount` asks. In Node that count is `os.cpus().length`, so while the module
 *    starts `os.cpus` reports twice the threads wanted.
 * 5. Emscripten refs a pthread's worker while it runs, and the pool's threads run for the
 *    life of the process: they are unref'd, or the CLI would never exit.
 *
 * Everything is undone or harmless after start-up: `worker_threads.Worker` and `os.cpus`
 * are restored; Emscripten itself leaves `global.Worker` set (to {@link PthreadWorker},
 * which only differs for `blob:` URLs).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
// As Emscripten emitted it (see 3 above); a static import, so esbuild bundles it.
import threadedSimdFactory from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';

/** The Node modules patched during start-up (the very objects Emscripten `require`s). */
const workerThreads = require('node:worker_threads') as typeof import('node:worker_threads');
const os = require('node:os') as typeof import('node:os');

/** Emscripten's pthread worker script (a string export, `\n` escapes already decoded). */
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
  wasmWorkerContents: string;
};

/** XNNPACK's own ceiling (`max_num_threads` in backend.cc). */
export const MAX_WASM_THREADS = 8;

/** The `load` message's main script, replaced by this marker and served by the shim below. */
const MAIN_SCRIPT_MARKER = 'msif:tfjs-backend-wasm-threaded-simd.js';

/**
 * The pthread worker's code: Emscripten's worker script, then a shim that makes the `load`
 * message import the bundled factory instead of the Blob (see 3 above).
 */
function pthreadWorkerSource(): string {
  const factory = `var WasmBackendModuleThreadedSimd = ${threadedSimdFactory.toString()};`;
  const shim = `
;(function () {
  var importScriptsAsShipped = global.importScripts;
  global.importScripts = function (url) {
    if (url === ${JSON.stringify(MAIN_SCRIPT_MARKER)}) { (0, eval)(${JSON.stringify(factory)}); return; }
    return importScriptsAsShipped(url);
  };
  var onmessageAsShipped = self.onmessage;
  self.onmessage = function (e) {
    if (e.data && e.data.cmd === 'load') e.data.urlOrBlob = ${JSON.stringify(MAIN_SCRIPT_MARKER)};
    return onmessageAsShipped(e);
  };
})();`;
  // As tfjs does before making its Blob: the template literal decoded "\n" inside string literals.
  return wasmWorkerContents.replace(/\n/g, '\\n') + shim;
}

let workerSource: string | undefined;

/** `worker_threads.Worker`, except that a `blob:` URL (tfjs's pthread script) runs {@link pthreadWorkerSource}. */
class PthreadWorker extends workerThreads.Worker {
  constructor(filename: string | URL, options?: import('node:worker_threads').WorkerOptions) {
    if (typeof filename === 'string' && filename.startsWith('blob:')) {
      workerSource ??= pthreadWorkerSource();
      super(workerSource, { ...options, eval: true });
    } else {
      super(filename, options);
    }
  }
}

/** The parts of the Emscripten module that {@link unrefPthreads} uses. */
interface EmscriptenThreads {
  readonly PThread?: { readonly runningWorkers?: readonly { unref(): void }[]; readonly unusedWorkers?: readonly { unref(): void }[] };
}

/** `WebAssembly.Memory` (the DOM typings that declare it are not in this project's `lib`). */
const SharedMemory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { readonly buffer: ArrayBufferLike } } }).WebAssembly.Memory;

/** How long {@link pthreadsUnavailable} waits for its worker thread. */
const PREFLIGHT_TIMEOUT_MS = 10_000;

/**
 * Why this runtime cannot run Emscripten pthreads, or undefined when it can: a worker
 * thread started from code (`eval: true`) must receive a shared WebAssembly.Memory and
 * write to it. Checked first because a pthread worker that fails inside Emscripten
 * throws from an event handler, which ends the process instead of failing start-up.
 */
export async function pthreadsUnavailable(): Promise<string | undefined> {
  let memory: { readonly buffer: ArrayBufferLike };
  try {
    memory = new SharedMemory({ initial: 1, maximum: 1, shared: true });
    if (!(memory.buffer instanceof SharedArrayBuffer)) return 'WebAssembly memory cannot be shared here';
  } catch (e) {
    return `shared WebAssembly memory is unavailable (${(e as Error).message})`;
  }
  return new Promise((resolve) => {
    let worker: import('node:worker_threads').Worker;
    try {
      worker = new workerThreads.Worker(
        "const { parentPort } = require('node:worker_threads'); parentPort.once('message', (m) => { Atomics.store(new Int32Array(m.buffer), 0, 42); parentPort.postMessage('done'); });",
        { eval: true },
      );
    } catch (e) {
      resolve(`worker threads cannot start (${(e as Error).message})`);
      return;
    }
    const finish = (why: string | undefined): void => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(why);
    };
    const timer = setTimeout(() => finish('a worker thread did not answer'), PREFLIGHT_TIMEOUT_MS);
    worker.once('error', (e) => finish(`a worker thread failed (${e.message})`));
    worker.once('message', () => finish(Atomics.load(new Int32Array(memory.buffer), 0) === 42 ? undefined : 'a worker thread cannot write shared memory'));
    worker.postMessage({ buffer: memory.buffer });
  });
}

/**
 * Starts the wasm backend with `threads` threads (≥ 2; 1 needs nothing of this); returns
 * whether `tf.setBackend('wasm')` succeeded. Must run before the wasm backend was ever
 * initialised in this process, and only where {@link pthreadsUnavailable} found nothing.
 */
export async function startThreadedWasm(threads: number, start: () => Promise<boolean>): Promise<boolean> {
  const wanted = Math.min(Math.max(1, Math.floor(threads)), MAX_WASM_THREADS);
  const WorkerAsShipped = workerThreads.Worker;
  const cpusAsShipped = os.cpus;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(wanted);
  workerThreads.Worker = PthreadWorker;
  const cpus = cpusAsShipped();
  const reported = Array.from({ length: Math.max(2 * wanted, cpus.length) }, (_, i) => cpus[i % cpus.length] as import('node:os').CpuInfo);
  os.cpus = () => reported;
  try {
    const ok = await start();
    if (ok) unrefPthreads();
    return ok;
  } finally {
    workerThreads.Worker = WorkerAsShipped;
    os.cpus = cpusAsShipped;
  }
}

/** Lets the process exit while the pool's threads wait for work (see 5 above). */
function unrefPthreads(): void {
  const module = (tf.backend() as unknown as { wasm?: EmscriptenThreads }).wasm;
  for (const w of module?.PThread?.runningWorkers ?? []) w.unref();
  for (const w of module?.PThread?.unusedWorkers ?? []) w.unref();
}

/** SIMD and the thread count of the running wasm backend, in words (e.g. "SIMD, 2 threads"). */
export async function describeWasm(): Promise<string> {
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  let threads = 1;
  try {
    threads = getThreadsCount();
  } catch {
    // Not initialised: nothing to report beyond SIMD.
  }
  return `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`;
}
