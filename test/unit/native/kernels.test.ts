/**
 * Each kernel of the `native` backend against the `cpu` backend's kernel of the same name,
 * on seeded random inputs over many shapes and attributes.
 *
 * Tolerances (float32, unit roundoff u = 2⁻²⁴):
 * - matmul and convolutions (float32 sgemm, another summation order than the cpu kernels):
 *   |native − cpu| ≤ 4·√K·u · Σ_k |a_k b_k| element by element, K the length of the dot
 *   product (K-term sums in float32 have errors of order √K·u relative to Σ|a b|).
 * - add, sub, mul, div, neg, square, relu, step, transpose, sum, argMax, oneHot:
 *   bit-identical (same operations in the same order).
 * - exp, log, sigmoid: within 1 ulp (C's libm against V8's Math); tanh: within 8 ulp (a
 *   vectorized rational approximation, at most 6 ulp from the correctly rounded value).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../../src/engine/influence/sampling';
import { nativeKernels } from '../../../src/worker/native/kernels';
import type { CpuStorage, NativeKernel } from '../../../src/worker/native/kernels';
import { nativeForTests, requireNative } from './nativeAvailable';
import { registerEngineKernels } from '../../../src/worker/kernels/engineKernels';
import { FLAT_INDEX_KERNELS, poolGeometry } from '../../../src/engine/model/flatIndex';
import { TANH_KERNELS } from '../../../src/engine/model/tanhDual';
import type { PoolGeometry } from '../../../src/engine/model/ops';

const U = 2 ** -24;
const status = nativeForTests();

interface HostTensor {
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly values: Float32Array | Int32Array;
}

function randomTensor(shape: number[], seed: number, scale = 1): HostTensor {
  const r = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype: 'float32', values: Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale) };
}

function absOf(t: HostTensor): HostTensor {
  return { ...t, values: Float32Array.from(t.values, Math.abs) };
}

interface Result {
  readonly shape: number[];
  readonly values: Float32Array | Int32Array;
}

function toTensors(inputs: Record<string, HostTensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.tensor(t.values, t.shape, t.dtype)]));
}

/** The registered kernel `name` on the current backend, through the engine. */
function viaEngine(name: string, inputs: Record<string, HostTensor>, attrs: object): Result {
  const ts = toTensors(inputs);
  try {
    const out = tf.engine().runKernel(name, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
    const r = { shape: [...out.shape], values: out.dataSync() as Float32Array | Int32Array };
    out.dispose();
    return r;
  } finally {
    tf.dispose(Object.values(ts));
  }
}

let kernels: Map<string, NativeKernel>;

/** The native kernel itself (not its cpu fallback): fails if it declines the case. */
function viaNative(name: string, inputs: Record<string, HostTensor>, attrs: object): Result {
  const kernel = kernels.get(name);
  assert.ok(kernel, `no native kernel ${name}`);
  const ts = toTensors(inputs);
  const backend = tf.backend() as unknown as CpuStorage & { readSync(id: tf.DataId): Float32Array | Int32Array; disposeData(id: tf.DataId): void };
  try {
    const info = kernel({ inputs: ts, backend, attrs: attrs as tf.NamedAttrMap }, backend);
    assert.ok(info, `the native ${name} kernel declined this case and would fall back to cpu`);
    const r = { shape: [...info.shape], values: backend.readSync(info.dataId) };
    backend.disposeData(info.dataId);
    return r;
  } finally {
    tf.dispose(Object.values(ts));
  }
}

/** cpu's result, native's, and (for bilinear kernels) cpu's result on |inputs|. */
async function compare(name: string, inputs: Record<string, HostTensor>, attrs: object, bilinear: boolean): Promise<{ cpu: Result; native: Result; absRef?: Result }> {
  await tf.setBackend('cpu');
  const cpu = viaEngine(name, inputs, attrs);
  const absRef = bilinear ? viaEngine(name, Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, absOf(t)])), attrs) : undefined;
  await tf.setBackend('native');
  const native = viaNative(name, inputs, attrs);
  // The registered kernel is the native one, not the fallback: identical bits.
  const registered = viaEngine(name, inputs, attrs);
  assert.deepEqual(registered.shape, native.shape);
  assertIdentical(registered.values, native.values, `${name} via the engine`);
  assert.deepEqual(native.shape, cpu.shape, `${name} output shape`);
  return absRef ? { cpu, native, absRef } : { cpu, native };
}

function assertIdentical(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) assert.fail(`${what}: element ${i} is ${x}, expected ${y} (bit-identical)`);
  }
}

/** |native − cpu| ≤ 4·√K·u·Σ|a b|, element by element. */
function assertDotClose(r: { cpu: Result; native: Result; absRef?: Result }, k: number, what: string): void {
  const tol = 4 * Math.sqrt(Math.max(k, 1)) * U;
  const { cpu, native, absRef } = r;
  assert.ok(absRef);
  let worst = 0;
  for (let i = 0; i < cpu.values.length; i++) {
    const err = Math.abs((native.values[i] as number) - (cpu.values[i] as number));
    const bound: number = tol * (absRef.values[i] as number) + 1e-30;
    worst = Math.max(worst, err / bound);
    if (!(err <= bound)) assert.fail(`${what}: element ${i}: native ${native.values[i]}, cpu ${cpu.values[i]}, |diff| ${err.toExponential(2)} > ${bound.toExponential(2)} (4·√K·u·Σ|ab|, K=${k})`);
  }
  if (process.env['MSIF_NATIVE_TEST_VERBOSE']) process.stderr.write(`${what}: worst error ${(worst * 4).toFixed(3)}·√K·u·Σ|ab|\n`);
}

function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (v: number): number => (v < 0 ? -2147483648 - v : v);
  return Math.abs(key(i[0] as number) - key(i[1] as number));
}

function assertUlp(a: ArrayLike<number>, b: ArrayLike<number>, maxUlp: number, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const d = ulpDistance(a[i] as number, b[i] as number);
    if (d > maxUlp) assert.fail(`${what}: element ${i}: native ${a[i]}, cpu ${b[i]}: ${d} ulp apart (at most ${maxUlp})`);
  }
}

describe('native backend kernels against the cpu backend', { skip: status.skip }, () => {
  before(async () => {
    const native = requireNative(status);
    kernels = nativeKernels(native.addon);
    // Tiny im2col chunks, so that the chunked paths run on test-sized convolutions.
    native.addon.setChunking(300, 7);
    await tf.setBackend('cpu');
  });
  after(() => {
    status.native?.addon.setChunking(1 << 20, 128);
  });

  describe('BatchMatMul', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[3, 5], [5, 7], false, false],
      [[5, 3], [5, 7], true, false],
      [[3, 5], [7, 5], false, true],
      [[5, 3], [7, 5], true, true],
      [[1, 1], [1, 1], false, false],
      [[17, 33], [33, 65], false, false],
      [[64, 300], [50, 300], false, true],
      [[4, 1], [1, 9], false, false],
      [[2, 3, 4], [2, 4, 5], false, false],
      [[2, 4, 3], [2, 5, 4], true, true],
      [[1, 3, 4], [6, 4, 5], false, false],
      [[6, 3, 4], [4, 5], false, false],
      [[2, 3, 6, 4], [2, 3, 4, 5], false, false],
      [[3, 0], [0, 4], false, false],
    ];
    cases.forEach(([as, bs, ta, tb], i) => {
      it(`[${as}]${ta ? 'ᵀ' : ''} · [${bs}]${tb ? 'ᵀ' : ''}`, async () => {
        const k = ta ? (as[as.length - 2] as number) : (as[as.length - 1] as number);
        const r = await compare('BatchMatMul', { a: randomTensor(as, 10 + i), b: randomTensor(bs, 50 + i) }, { transposeA: ta, transposeB: tb }, true);
        assertDotClose(r, k, 'BatchMatMul');
      });
    });
  });

  interface ConvCase {
    readonly x: [number, number, number, number];
    readonly f: [number, number, number, number];
    readonly strides: number | [number, number];
    readonly pad: 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
    readonly dilations: number | [number, number];
  }
  const convCases: ConvCase[] = [
    { x: [1, 5, 5, 1], f: [3, 3, 1, 1], strides: 1, pad: 'valid', dilations: 1 },
    { x: [2, 7, 6, 3], f: [3, 2, 3, 4], strides: 1, pad: 'same', dilations: 1 },
    { x: [2, 9, 8, 3], f: [3, 3, 3, 5], strides: 2, pad: 'same', dilations: 1 },
    { x: [3, 10, 7, 2], f: [2, 3, 2, 3], strides: [2, 1], pad: 'valid', dilations: 1 },
    { x: [2, 8, 8, 3], f: [5, 5, 3, 8], strides: 1, pad: 'same', dilations: 1 },
    { x: [2, 11, 9, 3], f: [4, 4, 3, 6], strides: 3, pad: 'same', dilations: 1 },
    { x: [1, 8, 8, 5], f: [1, 1, 5, 6], strides: 1, pad: 'valid', dilations: 1 },
    { x: [2, 8, 8, 5], f: [1, 1, 5, 6], strides: 2, pad: 'valid', dilations: 1 },
    { x: [2, 6, 6, 1], f: [2, 2, 1, 4], strides: 2, pad: 'valid', dilations: 1 },
    { x: [3, 7, 7, 2], f: [2, 2, 2, 3], strides: 1, pad: 'same', dilations: 1 },
    { x: [4, 24, 24, 1], f: [2, 2, 1, 4], strides: 2, pad: 'valid', dilations: 1 },
    { x: [2, 9, 10, 3], f: [3, 2, 3, 4], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]], dilations: 1 },
    { x: [3, 12, 12, 8], f: [8, 8, 8, 6], strides: 1, pad: 'valid', dilations: 1 },
    { x: [1, 28, 28, 1], f: [5, 5, 1, 32], strides: 1, pad: 'valid', dilations: 1 },
    { x: [2, 12, 12, 32], f: [5, 5, 32, 16], strides: 1, pad: 'valid', dilations: 1 },
  ];
  const dilatedCases: ConvCase[] = [
    { x: [2, 11, 11, 3], f: [3, 3, 3, 2], strides: 1, pad: 'valid', dilations: 2 },
    { x: [2, 12, 10, 4], f: [3, 3, 4, 5], strides: 1, pad: 'same', dilations: [2, 3] },
    // The engine's filter gradient: batch and channels swapped, dilation = stride.
    { x: [3, 9, 9, 4], f: [4, 4, 4, 2], strides: 1, pad: 'valid', dilations: 2 },
    { x: [1, 8, 8, 12], f: [4, 4, 12, 4], strides: 1, pad: 'valid', dilations: 2 },
  ];
  const name = (c: ConvCase): string => `x[${c.x}] f[${c.f}] strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)} dilations ${JSON.stringify(c.dilations)}`;
  const outShape = (c: ConvCase): [number, number, number, number] => {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations, c.pad, undefined, false, 'channelsLast');
    return info.outShape;
  };

  describe('Conv2D', () => {
    [...convCases, ...dilatedCases].forEach((c, i) => {
      it(name(c), async () => {
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations, dimRoundingMode: undefined };
        const r = await compare('Conv2D', { x: randomTensor(c.x, 100 + i), filter: randomTensor(c.f, 200 + i) }, attrs, true);
        assertDotClose(r, c.f[0] * c.f[1] * c.f[2], 'Conv2D');
      });
    });
  });

  describe('Conv2DBackpropInput', () => {
    convCases.forEach((c, i) => {
      it(name(c), async () => {
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x };
        const r = await compare('Conv2DBackpropInput', { dy: randomTensor(outShape(c), 300 + i), filter: randomTensor(c.f, 400 + i) }, attrs, true);
        assertDotClose(r, c.f[0] * c.f[1] * c.f[3], 'Conv2DBackpropInput');
      });
    });
  });

  describe('Conv2DBackpropFilter', () => {
    convCases.forEach((c, i) => {
      it(name(c), async () => {
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f };
        const o = outShape(c);
        const r = await compare('Conv2DBackpropFilter', { x: randomTensor(c.x, 500 + i), dy: randomTensor(o, 600 + i) }, attrs, true);
        assertDotClose(r, o[0] * o[1] * o[2], 'Conv2DBackpropFilter');
      });
    });
  });

  describe('fused ops (bias, linear or relu)', () => {
    for (const activation of ['linear', 'relu'] as const) {
      it(`FusedConv2D ${activation}`, async () => {
        const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation };
        const inputs = { x: randomTensor([2, 7, 7, 3], 700), filter: randomTensor([3, 3, 3, 4], 701), bias: randomTensor([4], 702) };
        const r = await compare('FusedConv2D', inputs, attrs, false);
        // Bias added after the dot product: compare with the dot product's bound on |x|·|w| + |b|.
        await tf.setBackend('cpu');
        const absRef = viaEngine('FusedConv2D', { x: absOf(inputs.x), filter: absOf(inputs.filter), bias: absOf(inputs.bias) }, { ...attrs, activation: 'linear' });
        assertDotClose({ ...r, absRef }, 27, 'FusedConv2D');
      });
      it(`_FusedMatMul ${activation}`, async () => {
        const attrs = { transposeA: false, transposeB: true, activation };
        const inputs = { a: randomTensor([2, 5, 9], 710), b: randomTensor([2, 6, 9], 711), bias: randomTensor([6], 712) };
        const r = await compare('_FusedMatMul', inputs, attrs, false);
        await tf.setBackend('cpu');
        const absRef = viaEngine('_FusedMatMul', { a: absOf(inputs.a), b: absOf(inputs.b), bias: absOf(inputs.bias) }, { ...attrs, activation: 'linear' });
        assertDotClose({ ...r, absRef }, 9, '_FusedMatMul');
      });
    }
  });

  describe('Transpose', () => {
    const cases: [number[], number[]][] = [
      [[7], [0]],
      [[3, 5], [1, 0]],
      [[256, 1], [1, 0]],
      [[2, 3, 4], [0, 2, 1]],
      [[2, 3, 4], [2, 0, 1]],
      [[5, 7, 6, 3], [0, 3, 1, 2]],
      [[5, 7, 6, 3], [0, 2, 3, 1]],
      [[5, 7, 6, 3], [3, 1, 2, 0]],
      [[5, 7, 6, 3], [1, 2, 0, 3]],
      [[33, 6, 6, 1], [3, 1, 2, 0]],
      [[2, 1, 3, 1, 4], [4, 3, 2, 1, 0]],
      [[2, 3, 1, 4, 5, 2], [5, 1, 0, 3, 2, 4]],
      [[70, 45], [1, 0]],
      [[3, 40, 37, 2], [0, 3, 2, 1]],
    ];
    cases.forEach(([shape, perm], i) => {
      it(`[${shape}] by [${perm}], float32 and int32`, async () => {
        const f = randomTensor(shape, 800 + i);
        const r = await compare('Transpose', { x: f }, { perm }, false);
        assertIdentical(r.native.values, r.cpu.values, 'Transpose float32');
        const ints: HostTensor = { shape, dtype: 'int32', values: Int32Array.from(f.values, (v) => Math.round(v * 1000)) };
        const ri = await compare('Transpose', { x: ints }, { perm }, false);
        assert.ok(ri.native.values instanceof Int32Array);
        assertIdentical(ri.native.values, ri.cpu.values, 'Transpose int32');
      });
    });
  });

  describe('broadcasting binary ops', () => {
    const shapes: [number[], number[]][] = [
      [[4, 5], [4, 5]],
      [[], [3, 4]],
      [[3, 4], []],
      [[2, 5, 5, 3], [3]],
      [[2, 1, 5, 1], [1, 4, 1, 3]],
      [[6, 1], [1, 7]],
      [[3, 4, 5], [4, 1]],
      [[1], [2, 3]],
      [[2, 3, 1, 4, 1, 2], [3, 1, 1, 1]],
      [[0, 3], [3]],
    ];
    for (const op of ['Add', 'Sub', 'Multiply', 'RealDiv']) {
      shapes.forEach(([as, bs], i) => {
        it(`${op} [${as}] with [${bs}]`, async () => {
          const a = randomTensor(as, 900 + i, 3);
          const b = randomTensor(bs, 950 + i, 3);
          if (a.values.length > 2) a.values.set([NaN, Infinity], 0);
          if (b.values.length > 1) b.values[b.values.length - 1] = 0;
          const r = await compare(op, { a, b }, {}, false);
          assertIdentical(r.native.values, r.cpu.values, op);
        });
      });
    }
  });

  describe('unary ops', () => {
    const specials = [0, -0, 1e-30, -1e-30, 1e-4, -3.5e-4, 0.5, -0.75, 3.8, -4.2, 9, -12, 88, -104, Infinity, -Infinity, NaN];
    const input = (seed: number, scale: number): HostTensor => {
      const t = randomTensor([1000], seed, scale);
      t.values.set(specials, 0);
      return { ...t, shape: [10, 100] };
    };
    const exact = ['Neg', 'Square', 'Relu'];
    const within1 = ['Exp', 'Log', 'Sigmoid'];
    for (const op of [...exact, ...within1, 'Tanh']) {
      it(op, async () => {
        for (const scale of [1, 10]) {
          const x = input(1000 + scale, scale);
          if (op === 'Log') x.values.forEach((v, i) => (x.values[i] = i < specials.length ? v : Math.abs(v)));
          const r = await compare(op, { x }, {}, false);
          if (exact.includes(op)) assertIdentical(r.native.values, r.cpu.values, op);
          else assertUlp(r.native.values, r.cpu.values, op === 'Tanh' ? 8 : 1, op);
        }
      });
    }
    it('Step (alpha 0)', async () => {
      const r = await compare('Step', { x: input(1100, 2) }, { alpha: 0 }, false);
      assertIdentical(r.native.values, r.cpu.values, 'Step');
    });
  });

  describe('Sum', () => {
    const cases: [number[], number | number[] | null, boolean][] = [
      [[7, 9], -1, false],
      [[7, 9], 0, true],
      [[4, 5, 6], [0, 2], false],
      [[4, 5, 6], [1], true],
      [[4, 5, 6], null, false],
      [[3, 4, 5, 2], [0, 1, 2], false],
      [[300], 0, false],
      [[2, 3, 4, 5, 6], [1, 3], true],
      // Leading axes (bias gradients): column sums without a transpose.
      [[16, 14, 14, 32], [0, 1, 2], false],
      [[9, 5, 3], [0, 1], true],
    ];
    cases.forEach(([shape, axis, keepDims], i) => {
      it(`[${shape}] over ${JSON.stringify(axis)}${keepDims ? ', keepDims' : ''}`, async () => {
        const r = await compare('Sum', { x: randomTensor(shape, 1200 + i) }, { axis: axis ?? shape.map((_, d) => d), keepDims }, false);
        assertIdentical(r.native.values, r.cpu.values, 'Sum');
      });
    });
  });

  describe('ArgMax', () => {
    const cases: [number[], number][] = [
      [[10, 4], -1],
      [[10, 4], 0],
      [[3, 5, 7], 1],
      [[6, 1], 1],
      [[2, 3, 4, 5], 2],
      [[41], 0],
    ];
    cases.forEach(([shape, axis], i) => {
      it(`[${shape}] over axis ${axis}, with ties and NaN`, async () => {
        const x = randomTensor(shape, 1300 + i);
        // Ties (first index wins) and NaN (never wins, except in the first slot).
        x.values.forEach((v, j) => (x.values[j] = Math.round((v as number) * 2) / 2));
        if (x.values.length > 3) x.values.set([NaN, 5, NaN], 0);
        const r = await compare('ArgMax', { x }, { axis }, false);
        assert.ok(r.native.values instanceof Int32Array);
        assertIdentical(r.native.values, r.cpu.values, 'ArgMax');
      });
    });
  });

  describe('OneHot', () => {
    for (const dtype of ['float32', 'int32'] as const) {
      it(`depth 4 and 1, indices in and out of range, ${dtype}`, async () => {
        const indices: HostTensor = { shape: [3, 4], dtype: 'int32', values: Int32Array.from([0, 1, 2, 3, 3, -1, 4, 2, 1, 0, 7, 3]) };
        for (const depth of [4, 1]) {
          const r = await compare('OneHot', { indices }, { depth, onValue: 1, offValue: 0, dtype }, false);
          assertIdentical(r.native.values, r.cpu.values, 'OneHot');
          const s = await compare('OneHot', { indices }, { depth, onValue: 2.5, offValue: -1, dtype }, false);
          assertIdentical(s.native.values, s.cpu.values, 'OneHot (on 2.5, off -1)');
        }
      });
    }
  });

  // The engine's flat-index kernels (src/engine/model/flatIndex.ts): the addon's against
  // the JavaScript loops registered for cpu. Integer results and gathers are exact; the
  // scatter-add sums in the same order, so it is bit-identical too.
  describe('flat-index kernels (max-pool argmax, gather, scatter-add)', () => {
    before(() => registerEngineKernels('cpu'));
    const geometries: [number[], PoolGeometry][] = [
      [[2, 6, 6, 3], { poolSize: [2, 2], strides: [2, 2], padding: 'valid' }],
      [[2, 7, 5, 4], { poolSize: [3, 3], strides: [2, 2], padding: 'same' }],
      [[1, 5, 5, 2], { poolSize: [2, 2], strides: [1, 1], padding: 'valid' }],
      [[3, 9, 4, 1], { poolSize: [3, 2], strides: [2, 1], padding: 'same' }],
    ];
    geometries.forEach(([shape, g], i) => {
      it(`[${shape}] pool ${g.poolSize} stride ${g.strides} ${g.padding}, with ties and negative windows`, async () => {
        const x = randomTensor(shape, 1500 + i, 2);
        // Ties: the first maximiser (row-major in the window) must win on both.
        x.values.forEach((v, j) => (x.values[j] = Math.round((v as number) * 2) / 2 - 3));
        const attrs = { geometry: poolGeometry(shape, g) };
        const argmax = await compare(FLAT_INDEX_KERNELS.maxPoolArgmax, { x }, attrs, false);
        assert.ok(argmax.native.values instanceof Int32Array);
        assertIdentical(argmax.native.values, argmax.cpu.values, 'MsifMaxPoolArgmax');
        const indices: HostTensor = { shape: argmax.native.shape, dtype: 'int32', values: argmax.native.values };
        const gathered = await compare(FLAT_INDEX_KERNELS.gatherFlat, { x, indices }, {}, false);
        assertIdentical(gathered.native.values, gathered.cpu.values, 'MsifGatherFlat');
        // Each gathered value is the window's maximum (tfjs's own max pool).
        await tf.setBackend('cpu');
        const pooled = tf.tidy(() => tf.maxPool(tf.tensor4d(x.values as Float32Array, shape as [number, number, number, number]), g.poolSize, g.strides, g.padding).dataSync());
        assertIdentical(gathered.cpu.values, pooled, 'gathered maxima vs tf.maxPool');
        const dy = randomTensor(argmax.native.shape, 1600 + i);
        const scattered = await compare(FLAT_INDEX_KERNELS.scatterAddFlat, { dy, indices }, { size: x.values.length }, false);
        assertIdentical(scattered.native.values, scattered.cpu.values, 'MsifScatterAddFlat');
      });
    });
  });

  // tanhDual.ts's kernels: the addon's against the JavaScript loops registered for cpu,
  // both rounding to float32 after each operation: bit-identical.
  describe('tanh derivative kernels', () => {
    before(() => registerEngineKernels('cpu'));
    for (const shape of [[7], [3, 5, 4], [2, 6, 6, 8]]) {
      it(`[${shape}]`, async () => {
        const a = randomTensor(shape, 1700);
        a.values.forEach((v, j) => (a.values[j] = Math.tanh(3 * (v as number))));
        const t = randomTensor(shape, 1701, 5);
        const g = randomTensor(shape, 1702, 5);
        const s = await compare(TANH_KERNELS.slope, { a, t }, {}, false);
        assertIdentical(s.native.values, s.cpu.values, 'MsifTanhSlope');
        s.cpu.values.forEach((v, j) => {
          const ai = a.values[j] as number;
          assert.equal(v, Math.fround(Math.fround(1 - Math.fround(ai * ai)) * (t.values[j] as number)));
        });
        const c = await compare(TANH_KERNELS.curvature, { a, t, g }, {}, false);
        assertIdentical(c.native.values, c.cpu.values, 'MsifTanhCurvature');
      });
    }
  });
});
