/**
 * Kernel micro-benchmark and engine timing per TensorFlow.js backend (cpu, wasm, native).
 *
 *   npm run bench:kernels                        kernels + HVP over 1,000 examples
 *   npm run bench:kernels -- --profile           also: where the time goes, kernel by kernel
 *   npm run bench:kernels -- --backends native,wasm --examples 1000 --cpu-examples 64
 *
 * Options: --backends a,b (default cpu,wasm,native: those available), --examples N (HVP
 * examples, default 1000), --cpu-examples N (the cpu backend runs the HVP on N examples
 * and scales to --examples, default 64; `all` for the full count), --batch N (default
 * 256, influence.batchSize's default), --reps N (kernel repetitions, best taken, default 5),
 * --no-kernels, --no-hvp, --profile, --out FILE (default bench/results/kernels-<date>.json).
 *
 * Kernels: the paper's MNIST CNN shapes at batch 128 (conv 5×5×32 on 28×28×1, conv
 * 5×5×64 on 12×12×32) with their two gradients, the engine's filter gradient (a forward
 * convolution with batch and channels swapped, src/engine/model/ops.ts), and a dense
 * matmul 512×784·784×256 with its two gradients. Each run is the kernel alone
 * (`tf.engine().runKernel`) plus reading its output; GFLOP/s count 2 flops per
 * multiply-add. `native` runs OpenBLAS on its default thread count (src/worker/native/addon.ts:
 * 1 unless MSIF_NATIVE_THREADS says otherwise), `native-<n>t` on all n cores.
 * `wasm` runs as the engine starts it: SIMD, on `MSIF_WASM_THREADS` threads, else one per
 * idle core (src/worker/backend.ts `wasmThreads`; bench/README.md compares 1 and 2).
 *
 * The HVP is the engine's own (`accumulateHessianVectorProduct`, all parameters, softmax
 * cross-entropy) on the paper CNN (conv 32 5×5 tanh, max-pool 2, conv 64 5×5 tanh,
 * max-pool 2, dense 4), 28×28×1 inputs, in batches of --batch.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Model } from '../src/engine/model/model';
import { ParamBlock, accumulateGradient, accumulateHessianVectorProduct, directionalDerivatives } from '../src/engine/autodiff/hessianVectorProduct';
import type { TensorBatch } from '../src/engine/batches';
import { registerNativeBackend } from '../src/worker/native/nativeBackend';
import { wasmThreads } from '../src/worker/backend';
import { describeWasm, startThreadedWasm } from '../src/worker/backendWasmThreads';
import type { NativeRegistration } from '../src/worker/native/nativeBackend';
import { artifactsOf } from '../test/unit/engine/layersFixtures';

// ---------------------------------------------------------------------------- options

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const examples = Number(option('examples') ?? 1000);
const cpuExamplesOpt = option('cpu-examples') ?? '64';
const batchSize = Number(option('batch') ?? 256);
const reps = Number(option('reps') ?? 5);
const date = new Date().toISOString().slice(0, 10);
const outFile = option('out') ?? path.join(__dirname, 'results', `kernels-${date}.json`);

// ---------------------------------------------------------------------------- backends

const native = registerNativeBackend();
const nativeOk = !('error' in native);
const requested = (option('backends') ?? 'cpu,wasm,native').split(',');
const cores = os.cpus().length;
const allCores = `native-${cores}t`;
const backends = requested.flatMap((b) => (b === 'native' ? (nativeOk ? (cores > 1 ? ['native', allCores] : ['native']) : []) : [b]));
if (requested.includes('native') && !nativeOk) console.error(`native backend skipped: ${(native as { error: string }).error}`);

/** The tfjs backend behind a column name, set up (threads) for it. */
async function use(column: string): Promise<void> {
  const name = column.startsWith('native') ? 'native' : column;
  if (nativeOk) (native as NativeRegistration).addon.setThreads(column === allCores ? cores : defaultThreads);
  // wasm on the threads the engine would use ($MSIF_WASM_THREADS, else one per idle core): set once, at its first start.
  if (name === 'wasm' && !wasmStarted) {
    wasmStarted = true;
    const { threads } = wasmThreads();
    if (threads > 1) await startThreadedWasm(threads, async () => (await tf.setBackend('wasm')) && (await tf.ready(), true));
  }
  await tf.setBackend(name);
  await tf.ready();
}
const defaultThreads = nativeOk ? (native as NativeRegistration).addon.info().threads : 1;
let wasmStarted = false;

// ---------------------------------------------------------------------------- profiling

interface KernelTime {
  ms: number;
  cpuMs: number;
  calls: number;
}
const profile = new Map<string, KernelTime>();
let profiling = false;

/** Wraps every kernel of `backend` with a timer (active while `profiling`). */
function instrument(backend: string): void {
  for (const config of tf.getKernelsForBackend(backend)) {
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (!profiling) return inner(args);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = inner(args);
        const dt = performance.now() - t0;
        const c = process.cpuUsage(c0);
        const shapes = /^(Conv2D|Conv2DBackprop|BatchMatMul|FusedConv2D|_FusedMatMul|Transpose|Multiply|Add)/.test(config.kernelName)
          ? ' ' + Object.values(args.inputs).map((t) => `[${(t as tf.TensorInfo).shape.join(',')}]`).join('')
          : '';
        const key = config.kernelName + shapes;
        const e = profile.get(key) ?? { ms: 0, cpuMs: 0, calls: 0 };
        e.ms += dt;
        e.cpuMs += (c.user + c.system) / 1000;
        e.calls++;
        profile.set(key, e);
        return out;
      },
    });
  }
}

// ---------------------------------------------------------------------------- kernels

interface KernelCase {
  readonly name: string;
  readonly kernel: string;
  readonly flops: number;
  readonly inputs: Record<string, number[]>;
  readonly attrs: object;
}

function convCase(label: string, x: [number, number, number, number], f: [number, number, number, number], dilations = 1, forwardOnly = false): KernelCase[] {
  const info = tf.backend_util.computeConv2DInfo(x, f, 1, dilations, 'valid', undefined, false, 'channelsLast');
  const [n, oh, ow, o] = info.outShape;
  const flops = 2 * n * oh * ow * o * f[0] * f[1] * f[2];
  const conv = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined };
  const shape = (s: readonly number[]): string => s.join('×');
  if (forwardOnly) {
    return [{ name: `${label}: Conv2D ${shape(x)} ⋆ ${shape(f)}${dilations === 1 ? '' : ` dilation ${dilations}`}`, kernel: 'Conv2D', flops, inputs: { x, filter: f }, attrs: { ...conv, dilations } }];
  }
  return [
    { name: `${label}: Conv2D ${shape(x)} ⋆ ${shape(f)}`, kernel: 'Conv2D', flops, inputs: { x, filter: f }, attrs: { ...conv, dilations: 1 } },
    { name: `${label}: Conv2DBackpropInput (∂x)`, kernel: 'Conv2DBackpropInput', flops, inputs: { dy: info.outShape, filter: f }, attrs: { ...conv, inputShape: x } },
    { name: `${label}: Conv2DBackpropFilter (∂w)`, kernel: 'Conv2DBackpropFilter', flops, inputs: { x, dy: info.outShape }, attrs: { ...conv, filterShape: f } },
  ];
}

const KERNELS: KernelCase[] = [
  { name: 'matmul 512×784 · 784×256', kernel: 'BatchMatMul', flops: 2 * 512 * 784 * 256, inputs: { a: [512, 784], b: [784, 256] }, attrs: { transposeA: false, transposeB: false } },
  { name: 'matmul ∂A: 512×256 · (784×256)ᵀ', kernel: 'BatchMatMul', flops: 2 * 512 * 784 * 256, inputs: { a: [512, 256], b: [784, 256] }, attrs: { transposeA: false, transposeB: true } },
  { name: 'matmul ∂B: (512×784)ᵀ · 512×256', kernel: 'BatchMatMul', flops: 2 * 512 * 784 * 256, inputs: { a: [512, 784], b: [512, 256] }, attrs: { transposeA: true, transposeB: false } },
  ...convCase('conv1', [128, 28, 28, 1], [5, 5, 1, 32]),
  ...convCase('conv2', [128, 12, 12, 32], [5, 5, 32, 64]),
  // conv2's ∂w as the engine computes it: conv2d(xᵀ, dyᵀ) with batch and channels swapped.
  ...convCase('conv2 ∂w, engine form', [32, 12, 12, 128], [8, 8, 128, 64], 1, true),
];

interface KernelResult {
  readonly backend: string;
  readonly kernel: string;
  readonly seconds: number | null;
  readonly gflops: number | null;
  readonly note?: string;
}

function randomInputs(c: KernelCase): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(c.inputs).map(([k, s], i) => [k, tf.randomUniform(s, -1, 1, 'float32', 11 + i)]));
}

async function benchKernel(column: string, c: KernelCase): Promise<KernelResult> {
  await use(column);
  if (tf.getKernel(c.kernel, tf.getBackend()) === undefined) return { backend: column, kernel: c.name, seconds: null, gflops: null, note: `no ${c.kernel} kernel` };
  const inputs = randomInputs(c);
  const once = (): number => {
    const t0 = performance.now();
    const out = tf.engine().runKernel(c.kernel, inputs, c.attrs as tf.NamedAttrMap) as tf.Tensor;
    out.dataSync();
    const dt = (performance.now() - t0) / 1000;
    out.dispose();
    return dt;
  };
  try {
    const first = once(); // warm-up (counted when it is slow: the cpu backend)
    const times = first > 2 ? [first] : [];
    const runs = first > 2 ? Math.min(reps, 2) - 1 : reps;
    for (let i = 0; i < runs; i++) times.push(once());
    const best = Math.min(...times);
    return { backend: column, kernel: c.name, seconds: best, gflops: c.flops / best / 1e9 };
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

// ---------------------------------------------------------------------------- engine

async function paperModel(): Promise<Model> {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const lm = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, activation: 'tanh', name: 'c1', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, activation: 'tanh', name: 'c2', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'p2' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 4, name: 'head', kernelInitializer: init(3) }),
    ],
  });
  const model = Model.fromArtifacts(await artifactsOf(lm));
  lm.dispose();
  return model;
}

function batches(n: number): TensorBatch[] {
  const out: TensorBatch[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const x = tf.randomUniform([m, 28, 28, 1], 0, 1, 'float32', start + 1);
    const y = tf.tensor1d(Array.from({ length: m }, (_, i) => (start + i) % 4), 'float32');
    out.push({ x, y, n: m, indices: Array.from({ length: m }, (_, i) => start + i) });
  }
  return out;
}

interface EngineResult {
  readonly backend: string;
  readonly examples: number;
  readonly measuredExamples: number;
  /** Wall seconds for `examples`, scaled from `measuredExamples` when fewer were run. */
  readonly hvpSeconds: number;
  /** Process CPU seconds (user + system, all threads) for the HVP, scaled likewise. */
  readonly hvpCpuSeconds: number;
  readonly gradientSeconds: number;
  readonly directionalSeconds: number;
  readonly extrapolated: boolean;
}

async function benchEngine(column: string): Promise<EngineResult> {
  await use(column);
  const measured = column === 'cpu' && cpuExamplesOpt !== 'all' ? Math.min(Number(cpuExamplesOpt), examples) : examples;
  const model = await paperModel();
  const block = ParamBlock.all(model);
  const v = Float64Array.from({ length: block.size }, (_, i) => Math.sin(i + 1));
  const data = batches(measured);
  try {
    // Warm-up on a small batch (kernel set-up, first allocations).
    const warm = data[0] as TensorBatch;
    accumulateHessianVectorProduct('softmax_cross_entropy', block, block, v, warm, new Float64Array(block.size));
    let cpuSeconds = 0;
    const time = (fn: (b: TensorBatch) => void): number => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const b of data) fn(b);
      const c = process.cpuUsage(c0);
      cpuSeconds = ((c.user + c.system) / 1e6) * (examples / measured);
      return ((performance.now() - t0) / 1000) * (examples / measured);
    };
    const hvpSeconds = time((b) => accumulateHessianVectorProduct('softmax_cross_entropy', block, block, v, b, new Float64Array(block.size)));
    const hvpCpuSeconds = cpuSeconds;
    const gradientSeconds = time((b) => void accumulateGradient('softmax_cross_entropy', block, b, new Float64Array(block.size)));
    const directionalSeconds = time((b) => void directionalDerivatives('softmax_cross_entropy', block, v, b));
    return { backend: column, examples, measuredExamples: measured, hvpSeconds, hvpCpuSeconds, gradientSeconds, directionalSeconds, extrapolated: measured < examples };
  } finally {
    for (const b of data) tf.dispose([b.x, b.y]);
    model.dispose();
  }
}

interface ProfileRow {
  readonly kernel: string;
  /** Wall milliseconds, and process CPU milliseconds (all threads). */
  readonly ms: number;
  readonly cpuMs: number;
  readonly calls: number;
  readonly share: number;
}

/** Where one batch's forward, gradient and HVP spend their time, kernel by kernel. */
async function profileEngine(column: string, n: number): Promise<Record<string, { seconds: number; cpuSeconds: number; kernels: ProfileRow[] }>> {
  await use(column);
  const model = await paperModel();
  const block = ParamBlock.all(model);
  const v = Float64Array.from({ length: block.size }, (_, i) => Math.sin(i + 1));
  const [batch] = batches(n) as [TensorBatch];
  const phases: [string, () => void][] = [
    ['forward', () => tf.tidy(() => void model.forward(model.params, batch.x).dataSync())],
    ['gradient', () => void accumulateGradient('softmax_cross_entropy', block, batch, new Float64Array(block.size))],
    ['hvp', () => accumulateHessianVectorProduct('softmax_cross_entropy', block, block, v, batch, new Float64Array(block.size))],
  ];
  const out: Record<string, { seconds: number; cpuSeconds: number; kernels: ProfileRow[] }> = {};
  try {
    for (const [phase, fn] of phases) {
      fn();
      profile.clear();
      profiling = true;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      fn();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      profiling = false;
      const cpuMs = (c.user + c.system) / 1000;
      // Shares of CPU time: steadier than wall time on a shared machine.
      const rows = [...profile.entries()].map(([kernel, e]) => ({ kernel, ms: e.ms, cpuMs: e.cpuMs, calls: e.calls, share: e.cpuMs / cpuMs })).sort((a, b) => b.cpuMs - a.cpuMs);
      out[phase] = { seconds: ms / 1000, cpuSeconds: cpuMs / 1000, kernels: rows };
    }
  } finally {
    tf.dispose([batch.x, batch.y]);
    model.dispose();
  }
  return out;
}

// ---------------------------------------------------------------------------- report

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

async function main(): Promise<void> {
  tf.enableProdMode();
  if (flag('profile')) for (const b of new Set(backends.map((c) => (c.startsWith('native') ? 'native' : c)))) instrument(b);
  const loadBefore = os.loadavg();
  console.log(`backends: ${backends.join(', ')}; ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  if (backends.includes('wasm')) {
    await use('wasm');
    console.log(`wasm: ${await describeWasm()}`);
  }
  if (nativeOk) {
    const info = (native as NativeRegistration).addon.info();
    console.log(`native: ${info.blas} (core ${info.corename}, ${info.threads} threads); kernels ${(native as NativeRegistration).kernels.join(', ')}`);
  }

  const kernelResults: KernelResult[] = [];
  if (!flag('no-kernels')) {
    console.log(`\nKernels (GFLOP/s, best of ${reps}; seconds in brackets)`);
    console.log(pad('kernel', 48) + backends.map((b) => lpad(b, 20)).join(''));
    for (const c of KERNELS) {
      const row: KernelResult[] = [];
      for (const b of backends) row.push(await benchKernel(b, c));
      kernelResults.push(...row);
      console.log(pad(c.name, 48) + row.map((r) => lpad(r.gflops === null ? (r.note ?? 'n/a') : `${r.gflops.toFixed(2)} (${fmtSeconds(r.seconds as number)})`, 20)).join(''));
    }
  }

  const engineResults: EngineResult[] = [];
  if (!flag('no-hvp')) {
    console.log(`\nPaper CNN, ${examples} examples in batches of ${batchSize}: wall seconds (HVP process CPU seconds in brackets)`);
    console.log(pad('backend', 12) + lpad('HVP', 12) + lpad('(HVP cpu)', 12) + lpad('gradient', 12) + lpad('directional', 14) + '  note');
    for (const b of backends) {
      const r = await benchEngine(b);
      engineResults.push(r);
      console.log(pad(b, 12) + lpad(r.hvpSeconds.toFixed(2), 12) + lpad(`(${r.hvpCpuSeconds.toFixed(2)})`, 12) + lpad(r.gradientSeconds.toFixed(2), 12) + lpad(r.directionalSeconds.toFixed(2), 14) + (r.extrapolated ? `  scaled from ${r.measuredExamples} examples` : ''));
    }
  }

  const profiles: Record<string, unknown> = {};
  if (flag('profile')) {
    const n = Number(option('profile-batch') ?? batchSize);
    for (const b of backends.filter((c) => c !== allCores)) {
      const m = b === 'cpu' ? Math.min(n, 64) : n;
      const p = await profileEngine(b, m);
      profiles[b] = { batch: m, ...p };
      for (const [phase, { seconds, cpuSeconds, kernels }] of Object.entries(p)) {
        console.log(`\n${b} ${phase}, batch ${m}: ${seconds.toFixed(3)} s wall, ${cpuSeconds.toFixed(3)} s CPU; kernels by CPU time (wall in brackets)`);
        for (const k of kernels.slice(0, 14)) console.log(`${lpad(k.cpuMs.toFixed(1), 10)} ms ${lpad(`(${k.ms.toFixed(1)})`, 10)} ${lpad(String(k.calls), 4)}× ${lpad((100 * k.share).toFixed(1), 5)}%  ${k.kernel}`);
      }
    }
  }

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadBefore, loadAfter: os.loadavg(), node: process.version, tfjs: tf.version.tfjs },
    native: nativeOk ? { ...(native as NativeRegistration).addon.info(), kernels: (native as NativeRegistration).kernels } : { error: (native as { error: string }).error },
    ...(backends.includes('wasm') ? { wasm: await describeWasm() } : {}),
    options: { backends, examples, batchSize, reps, cpuExamples: cpuExamplesOpt },
    kernels: kernelResults,
    engine: engineResults,
    ...(flag('profile') ? { profile: profiles } : {}),
  };
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), outFile)}`);
}

function fmtSeconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
