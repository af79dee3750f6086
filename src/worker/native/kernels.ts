/**
 * The kernels the `native` backend runs in the addon instead of in JavaScript: the ones
 * that dominate the engine's time on the `cpu` backend (bench/kernels.ts `--profile`),
 * each mirroring the attribute handling and output of its tfjs-backend-cpu counterpart.
 *
 * ## Notes
 * A kernel here returns `undefined` for a case it does not handle (another dtype,
 * NCHW, an activation other than linear/relu), and the backend then runs the `cpu`
 * kernel: results never depend on which path ran beyond float32 rounding. Inputs are read
 * straight from the cpu backend's storage (`backend.data.get(dataId).values`), outputs
 * are fresh typed arrays handed to `backend.makeTensorInfo`.
 *
 * Rounding versus the `cpu` backend: elementwise ops and `Sum` give identical bits
 * (same operation order, float64 where cpu uses float64; transcendental functions agree
 * to the last bit except in rare last-place cases between libm and V8); matmul and
 * convolutions use float32 sgemm, whose summation order differs (relative error of order
 * 1e-7·√K for K-term dot products; test/unit/native/ states the tolerances).
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './addon';
import { FLAT_INDEX_KERNELS } from '../../engine/model/flatIndex';
import { TANH_KERNELS } from '../../engine/model/tanhDual';

/** The part of tfjs-backend-cpu's MathBackendCPU that the kernels use. */
export interface CpuStorage {
  readonly data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array | Int32Array): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** A native kernel: a result, or undefined to run the `cpu` kernel instead. */
export type NativeKernel = (args: KernelArgs, backend: CpuStorage) => tf.TensorInfo | undefined;

/** Binary ops, as native/src/msif_native.c numbers them. */
const BINARY_OPS: Readonly<Record<string, number>> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };
/** Unary ops, as native/src/msif_native.c numbers them. */
const UNARY_OPS: Readonly<Record<string, number>> = { Tanh: 0, Exp: 1, Log: 2, Sigmoid: 3, Relu: 4, Neg: 5, Square: 6, Step: 7 };

/** The native kernels by tfjs kernel name. */
export function nativeKernels(addon: NativeAddon): Map<string, NativeKernel> {
  const k = new Map<string, NativeKernel>();
  k.set('BatchMatMul', (args, be) => batchMatMul(addon, args, be));
  k.set('_FusedMatMul', (args, be) => fusedMatMul(addon, args, be));
  k.set('Conv2D', (args, be) => conv2d(addon, args, be));
  k.set('FusedConv2D', (args, be) => fusedConv2d(addon, args, be));
  k.set('Conv2DBackpropInput', (args, be) => conv2dBackpropInput(addon, args, be));
  k.set('Conv2DBackpropFilter', (args, be) => conv2dBackpropFilter(addon, args, be));
  k.set('Transpose', (args, be) => transpose(addon, args, be));
  k.set('Sum', (args, be) => sum(addon, args, be));
  k.set('ArgMax', (args, be) => argMax(addon, args, be));
  k.set('OneHot', (args, be) => oneHot(addon, args, be));
  k.set(FLAT_INDEX_KERNELS.maxPoolArgmax, (args, be) => maxPoolArgmax(addon, args, be));
  k.set(FLAT_INDEX_KERNELS.gatherFlat, (args, be) => gatherFlat(addon, args, be));
  k.set(FLAT_INDEX_KERNELS.scatterAddFlat, (args, be) => scatterAddFlat(addon, args, be));
  k.set(TANH_KERNELS.slope, (args, be) => tanhSlope(addon, args, be));
  k.set(TANH_KERNELS.curvature, (args, be) => tanhCurvature(addon, args, be));
  for (const [name, op] of Object.entries(BINARY_OPS)) k.set(name, (args, be) => binary(addon, op, args, be));
  for (const [name, op] of Object.entries(UNARY_OPS)) k.set(name, (args, be) => unary(addon, op, args, be));
  return k;
}

// ---------------------------------------------------------------------------- helpers

function input(args: KernelArgs, name: string): tf.TensorInfo | undefined {
  return args.inputs[name] as tf.TensorInfo | undefined;
}

/** The float32 storage of a tensor, or undefined (another dtype, complex, not on this backend). */
function f32(be: CpuStorage, t: tf.TensorInfo | undefined): Float32Array | undefined {
  if (t === undefined || t.dtype !== 'float32') return undefined;
  const values = be.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : undefined;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Fits the addon's int32 geometry (and sgemm's int sizes). */
function fitsInt32(...ns: number[]): boolean {
  return ns.every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 31);
}

// ---------------------------------------------------------------------------- matmul

function batchMatMul(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const a = input(args, 'a');
  const b = input(args, 'b');
  const av = f32(be, a);
  const bv = f32(be, b);
  if (!a || !b || !av || !bv) return undefined;
  const attrs = args.attrs as unknown as tf.BatchMatMulAttrs;
  const transA = Boolean(attrs.transposeA);
  const transB = Boolean(attrs.transposeB);
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) return undefined;
  const innerA = (transA ? a.shape[ar - 2] : a.shape[ar - 1]) as number;
  const innerB = (transB ? b.shape[br - 1] : b.shape[br - 2]) as number;
  const m = (transA ? a.shape[ar - 1] : a.shape[ar - 2]) as number;
  const n = (transB ? b.shape[br - 2] : b.shape[br - 1]) as number;
  if (innerA !== innerB) return undefined; // the cpu kernel throws tfjs's message
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  // The cpu kernel's broadcasting: output batch i uses a[i % batchA], b[i % batchB].
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  // Broadcasts other than "one side has a single batch or both the same" are left to the cpu kernel.
  if (size(outer) !== batch) return undefined;
  if (batchA === 0 || batchB === 0 || !fitsInt32(m, n, innerA, batch * m * n, batchA * m * innerA, batchB * innerA * n)) return undefined;
  const out = new Float32Array(batch * m * n);
  addon.batchMatMul(av, bv, out, batch, batchA, batchB, m, n, innerA, transA, transB);
  return be.makeTensorInfo([...outer, m, n], 'float32', out);
}

/** _FusedMatMul with a linear or relu activation: matmul, bias, activation. */
function fusedMatMul(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const attrs = args.attrs as unknown as tf._FusedMatMulAttrs;
  if (!fusableActivation(attrs.activation)) return undefined;
  const bias = input(args, 'bias');
  if (input(args, 'preluActivationWeights') !== undefined || (bias && !f32(be, bias))) return undefined;
  const y = batchMatMul(addon, { ...args, inputs: { a: args.inputs['a'] as tf.TensorInfo, b: args.inputs['b'] as tf.TensorInfo } }, be);
  return y && biasAndActivation(addon, y, bias, attrs.activation, be);
}

// ---------------------------------------------------------------------------- convolution

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** The addon's geometry vector (native/src/msif_native.c), or undefined if it does not fit. */
function geometry(c: ConvInfo): Int32Array | undefined {
  const g = [c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outChannels, c.outHeight, c.outWidth, c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth];
  const pads = [c.padInfo.top, c.padInfo.left];
  if (!fitsInt32(...g, size(c.inShape), size(c.outShape), size(c.filterShape)) || !pads.every((p) => Number.isInteger(p) && Math.abs(p) < 2 ** 31)) return undefined;
  if (c.dataFormat !== 'channelsLast') return undefined;
  return Int32Array.from([...g, ...pads]);
}

function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: { strides: [number, number] | number; pad: tf.Conv2DAttrs['pad']; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' },
  dilations: [number, number] | number,
): ConvInfo | undefined {
  if (xShape.length !== 4 || filterShape.length !== 4) return undefined;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

function conv2d(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  const filter = input(args, 'filter');
  const xv = f32(be, x);
  const wv = f32(be, filter);
  if (!x || !filter || !xv || !wv) return undefined;
  const attrs = args.attrs as unknown as tf.Conv2DAttrs;
  const info = convInfo(x.shape, filter.shape, attrs, attrs.dilations);
  const geom = info && geometry(info);
  if (!info || !geom || info.inChannels !== filter.shape[2]) return undefined;
  const y = new Float32Array(size(info.outShape));
  addon.conv2d(xv, wv, y, geom);
  return be.makeTensorInfo([...info.outShape], 'float32', y);
}

/** FusedConv2D with a linear or relu activation: convolution, bias, activation. */
function fusedConv2d(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const attrs = args.attrs as unknown as tf.FusedConv2DAttrs;
  if (!fusableActivation(attrs.activation) || attrs.dataFormat === 'NCHW') return undefined;
  const bias = input(args, 'bias');
  if (input(args, 'preluActivationWeights') !== undefined || (bias && !f32(be, bias))) return undefined;
  const y = conv2d(addon, { ...args, inputs: { x: args.inputs['x'] as tf.TensorInfo, filter: args.inputs['filter'] as tf.TensorInfo } }, be);
  return y && biasAndActivation(addon, y, bias, attrs.activation, be);
}

function conv2dBackpropInput(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const dyv = f32(be, dy);
  const wv = f32(be, filter);
  if (!dy || !filter || !dyv || !wv) return undefined;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convInfo(attrs.inputShape, filter.shape, attrs, 1);
  const geom = info && geometry(info);
  if (!info || !geom || !sameShape(dy.shape, info.outShape)) return undefined;
  const dx = new Float32Array(size(info.inShape));
  addon.conv2dBackpropInput(dyv, wv, dx, geom);
  return be.makeTensorInfo([...info.inShape], 'float32', dx);
}

function conv2dBackpropFilter(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const xv = f32(be, x);
  const dyv = f32(be, dy);
  if (!x || !dy || !xv || !dyv) return undefined;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfo(x.shape, attrs.filterShape, attrs, 1);
  const geom = info && geometry(info);
  if (!info || !geom || !sameShape(dy.shape, info.outShape)) return undefined;
  const dw = new Float32Array(size(info.filterShape));
  addon.conv2dBackpropFilter(xv, dyv, dw, geom);
  return be.makeTensorInfo([...info.filterShape], 'float32', dw);
}

function fusableActivation(a: tf._FusedMatMulAttrs['activation'] | undefined): boolean {
  return a === undefined || a === null || a === 'linear' || a === 'relu';
}

/** y + bias, then relu if asked; disposes the intermediates. */
function biasAndActivation(addon: NativeAddon, y: tf.TensorInfo, bias: tf.TensorInfo | undefined, activation: string | undefined, be: CpuStorage): tf.TensorInfo | undefined {
  let out = y;
  if (bias) {
    const withBias = binaryOf(addon, BINARY_OPS['Add'] as number, y, bias, be);
    if (!withBias) {
      be.disposeIntermediateTensorInfo(y);
      return undefined;
    }
    be.disposeIntermediateTensorInfo(y);
    out = withBias;
  }
  if (activation === 'relu') {
    const r = unaryOf(addon, UNARY_OPS['Relu'] as number, out, be);
    be.disposeIntermediateTensorInfo(out);
    return r;
  }
  return out;
}

// ---------------------------------------------------------------------------- layout

function transpose(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32')) return undefined;
  const values = be.data.get(x.dataId)?.values;
  const perm = (args.attrs as unknown as tf.TransposeAttrs).perm;
  // The storage type the cpu kernel would give the output (an int32 tensor may hold a Float32Array: OneHot's).
  const storageMatches = (x.dtype === 'float32' && values instanceof Float32Array) || (x.dtype === 'int32' && values instanceof Int32Array);
  if (!storageMatches || perm.length !== x.shape.length || x.shape.length > 8) return undefined;
  const out = transposeValues(addon, values as Float32Array | Int32Array, x.shape, perm);
  return be.makeTensorInfo(perm.map((p) => x.shape[p] as number), x.dtype, out);
}

function transposeValues<T extends Float32Array | Int32Array>(addon: NativeAddon, values: T, shape: readonly number[], perm: readonly number[]): T {
  const out = (values instanceof Float32Array ? new Float32Array(values.length) : new Int32Array(values.length)) as T;
  addon.transpose(values, out, Int32Array.from(shape), Int32Array.from(perm));
  return out;
}

function sum(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  const xv = f32(be, x);
  if (!x || !xv || x.shape.length > 8) return undefined;
  const attrs = args.attrs as unknown as tf.SumAttrs;
  // As the cpu kernel: reduced axes moved innermost, then summed row by row in float64.
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis, [...x.shape]);
  const permutation = tf.backend_util.getAxesPermutation(axes, rank);
  let values = xv;
  let shape = [...x.shape];
  let reduced = axes;
  if (permutation !== null && axes.every((a, i) => a === i)) {
    // Leading axes (a bias gradient): column sums, the same additions in the same order.
    const rows = size(axes.map((a) => x.shape[a] as number));
    const kept = x.shape.slice(axes.length);
    const out = new Float32Array(size(kept));
    addon.sumColumns(xv, out, rows, out.length);
    return be.makeTensorInfo(attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(kept, axes) : kept, 'float32', out);
  }
  if (permutation !== null) {
    values = transposeValues(addon, xv, x.shape, permutation);
    shape = permutation.map((p) => x.shape[p] as number);
    reduced = tf.backend_util.getInnerMostAxes(axes.length, rank);
  }
  const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(shape, reduced);
  const cols = size(reduceShape);
  const rows = size(outShape);
  const out = new Float32Array(rows);
  addon.sumRows(values, out, rows, cols);
  const finalShape = attrs.keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  return be.makeTensorInfo(finalShape, 'float32', out);
}

function argMax(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  const xv = f32(be, x);
  if (!x || !xv || x.shape.length > 8 || x.shape.length === 0) return undefined;
  // As the cpu kernel: the (first) axis moved innermost, then the first maximum per row.
  const rank = x.shape.length;
  const axes = [tf.util.parseAxisParam((args.attrs as unknown as tf.ArgMaxAttrs).axis, [...x.shape])[0] as number];
  const permutation = tf.backend_util.getAxesPermutation(axes, rank);
  let values = xv;
  let shape = [...x.shape];
  let reduced = axes;
  if (permutation !== null) {
    values = transposeValues(addon, xv, x.shape, permutation);
    shape = permutation.map((p) => x.shape[p] as number);
    reduced = tf.backend_util.getInnerMostAxes(1, rank);
  }
  const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(shape, reduced);
  const cols = size(reduceShape);
  if (cols === 0) return undefined;
  const out = new Int32Array(size(outShape));
  addon.argMaxRows(values, out, out.length, cols);
  return be.makeTensorInfo(outShape, 'int32', out);
}

function oneHot(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const indices = input(args, 'indices');
  if (!indices || indices.dtype !== 'int32') return undefined;
  const values = be.data.get(indices.dataId)?.values;
  const attrs = args.attrs as unknown as tf.OneHotAttrs;
  if (!(values instanceof Int32Array) || !fitsInt32(attrs.depth, values.length * attrs.depth)) return undefined;
  // As the cpu kernel: float32 storage whatever the dtype asked for.
  const out = new Float32Array(values.length * attrs.depth);
  addon.oneHot(values, out, attrs.depth, attrs.onValue, attrs.offValue);
  return be.makeTensorInfo([...indices.shape, attrs.depth], attrs.dtype, out);
}

// ---------------------------------------------------------------------------- elementwise

function binary(addon: NativeAddon, op: number, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const a = input(args, 'a');
  const b = input(args, 'b');
  return a && b ? binaryOf(addon, op, a, b, be) : undefined;
}

function binaryOf(addon: NativeAddon, op: number, a: tf.TensorInfo, b: tf.TensorInfo, be: CpuStorage): tf.TensorInfo | undefined {
  const av = f32(be, a);
  const bv = f32(be, b);
  if (!av || !bv) return undefined;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (outShape.length > 8) return undefined;
  const out = new Float32Array(size(outShape));
  if (out.length > 0) {
    const plan = broadcastPlan(a.shape, b.shape, outShape);
    addon.binary(op, av, bv, out, plan.shape, plan.aStrides, plan.bStrides);
  }
  return be.makeTensorInfo(outShape, 'float32', out);
}

/**
 * Loop nest for a broadcasting elementwise op: per output axis, the stride of each operand
 * (0 where it is broadcast), with size-1 axes dropped and axes that are contiguous in both
 * operands merged, so that the innermost loop is as long as possible.
 */
export function broadcastPlan(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): { shape: Int32Array; aStrides: Int32Array; bStrides: Int32Array } {
  const sa = operandStrides(aShape, outShape);
  const sb = operandStrides(bShape, outShape);
  const dims: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  outShape.forEach((n, i) => {
    if (n === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && as[last] === (sa[i] as number) * n && bs[last] === (sb[i] as number) * n) {
      dims[last] = (dims[last] as number) * n;
      as[last] = sa[i] as number;
      bs[last] = sb[i] as number;
    } else {
      dims.push(n);
      as.push(sa[i] as number);
      bs.push(sb[i] as number);
    }
  });
  if (dims.length === 0) return { shape: Int32Array.of(1), aStrides: Int32Array.of(0), bStrides: Int32Array.of(0) };
  return { shape: Int32Array.from(dims), aStrides: Int32Array.from(as), bStrides: Int32Array.from(bs) };
}

/** An operand's stride along each output axis; 0 where it is broadcast or absent. */
function operandStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const offset = outShape.length - shape.length;
  const own: number[] = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    own[i] = s;
    s *= shape[i] as number;
  }
  return outShape.map((n, i) => {
    const j = i - offset;
    if (j < 0 || shape[j] === 1) return 0;
    return own[j] as number;
  });
}

function unary(addon: NativeAddon, op: number, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  if (!x) return undefined;
  if (op === UNARY_OPS['Step'] && Number((args.attrs as unknown as tf.StepAttrs | undefined)?.alpha ?? 0) !== 0) return undefined;
  return unaryOf(addon, op, x, be);
}

function unaryOf(addon: NativeAddon, op: number, x: tf.TensorInfo, be: CpuStorage): tf.TensorInfo | undefined {
  const xv = f32(be, x);
  if (!xv) return undefined;
  const out = new Float32Array(xv.length);
  addon.unary(op, xv, out);
  return be.makeTensorInfo([...x.shape], 'float32', out);
}

// ---------------------------------------------------------------------------- flat index (src/engine/model/flatIndex.ts)

function i32(be: CpuStorage, t: tf.TensorInfo | undefined): Int32Array | undefined {
  if (t === undefined || t.dtype !== 'int32') return undefined;
  const values = be.data.get(t.dataId)?.values;
  return values instanceof Int32Array ? values : undefined;
}

function maxPoolArgmax(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  const xv = f32(be, x);
  const geometry = (args.attrs as unknown as { geometry: number[] }).geometry;
  if (!x || !xv || x.shape.length !== 4 || !fitsInt32(x.shape.reduce((a, b) => a * b, 1))) return undefined;
  const [n, , , c, , , oh, ow] = geometry as [number, number, number, number, number, number, number, number];
  const out = new Int32Array(n * oh * ow * c);
  addon.maxPoolArgmax(xv, out, Int32Array.from(geometry));
  return be.makeTensorInfo([n, oh, ow, c], 'int32', out);
}

function gatherFlat(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const x = input(args, 'x');
  const indices = input(args, 'indices');
  const xv = f32(be, x);
  const iv = i32(be, indices);
  if (!indices || !xv || !iv) return undefined;
  const out = new Float32Array(iv.length);
  addon.gatherFlat(xv, iv, out);
  return be.makeTensorInfo([...indices.shape], 'float32', out);
}

function scatterAddFlat(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const dyv = f32(be, input(args, 'dy'));
  const iv = i32(be, input(args, 'indices'));
  const outSize = (args.attrs as unknown as { size: number }).size;
  if (!dyv || !iv || !fitsInt32(outSize)) return undefined;
  const out = new Float32Array(outSize);
  addon.scatterAddFlat(dyv, iv, out);
  return be.makeTensorInfo([outSize], 'float32', out);
}

// ---------------------------------------------------------------------------- tanh derivatives (src/engine/model/tanhDual.ts)

function tanhSlope(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const a = input(args, 'a');
  const av = f32(be, a);
  const tv = f32(be, input(args, 't'));
  if (!a || !av || !tv || tv.length !== av.length) return undefined;
  const out = new Float32Array(av.length);
  addon.tanhSlope(av, tv, out);
  return be.makeTensorInfo([...a.shape], 'float32', out);
}

function tanhCurvature(addon: NativeAddon, args: KernelArgs, be: CpuStorage): tf.TensorInfo | undefined {
  const a = input(args, 'a');
  const av = f32(be, a);
  const tv = f32(be, input(args, 't'));
  const gv = f32(be, input(args, 'g'));
  if (!a || !av || !tv || !gv || tv.length !== av.length || gv.length !== av.length) return undefined;
  const out = new Float32Array(av.length);
  addon.tanhCurvature(av, tv, gv, out);
  return be.makeTensorInfo([...a.shape], 'float32', out);
}
