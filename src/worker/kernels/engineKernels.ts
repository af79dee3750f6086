/**
 * The engine's optional kernels for the backends whose tensors are JavaScript typed arrays
 * (`cpu`, and `native`, which shares its storage), as plain loops:
 * - the flat-index kernels of src/engine/model/flatIndex.ts: O(output), in the order the
 *   engine's mask formulation uses (first maximiser in row-major window order), so both
 *   give the same numbers;
 * - the tanh derivative kernels of src/engine/model/tanhDual.ts, rounded to float32 after
 *   each operation as the composed ops are.
 */
import * as tf from '@tensorflow/tfjs';
import { FLAT_INDEX_KERNELS } from '../../engine/model/flatIndex';
import { TANH_KERNELS } from '../../engine/model/tanhDual';

/** The part of tfjs-backend-cpu's storage the kernels use. */
interface TypedArrayStorage {
  readonly data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array | Int32Array): tf.TensorInfo;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function values<T extends Float32Array | Int32Array>(args: KernelArgs, name: string, type: new (n: number) => T): T {
  const t = args.inputs[name] as tf.TensorInfo | undefined;
  const v = t && (args.backend as unknown as TypedArrayStorage).data.get(t.dataId)?.values;
  if (!(v instanceof type)) throw new Error(`${name}: expected ${type.name} storage`);
  return v;
}

/** First maximiser of each pooling window, as a flat index into x (NHWC). */
function maxPoolArgmax(args: KernelArgs): tf.TensorInfo {
  const x = values(args, 'x', Float32Array);
  const [n, h, w, c, kh, kw, ho, wo, sh, sw, pt, pl] = (args.attrs as unknown as { geometry: number[] }).geometry as [number, number, number, number, number, number, number, number, number, number, number, number];
  const out = new Int32Array(n * ho * wo * c);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const r0 = i * sh - pt;
      for (let j = 0; j < wo; j++) {
        const c0 = j * sw - pl;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let a = 0; a < kh; a++) {
            const r = r0 + a;
            if (r < 0 || r >= h) continue;
            for (let bb = 0; bb < kw; bb++) {
              const col = c0 + bb;
              if (col < 0 || col >= w) continue;
              const idx = ((b * h + r) * w + col) * c + ch;
              const v = x[idx] as number;
              // `at < 0`: the first real cell wins even if it is −∞ or NaN.
              if (at < 0 || v > best) {
                best = v;
                at = idx;
              }
            }
          }
          out[o++] = at;
        }
      }
    }
  }
  return (args.backend as unknown as TypedArrayStorage).makeTensorInfo([n, ho, wo, c], 'int32', out);
}

function gatherFlat(args: KernelArgs): tf.TensorInfo {
  const x = values(args, 'x', Float32Array);
  const idx = values(args, 'indices', Int32Array);
  const out = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = x[idx[i] as number] as number;
  const shape = (args.inputs['indices'] as tf.TensorInfo).shape;
  return (args.backend as unknown as TypedArrayStorage).makeTensorInfo([...shape], 'float32', out);
}

function scatterAddFlat(args: KernelArgs): tf.TensorInfo {
  const dy = values(args, 'dy', Float32Array);
  const idx = values(args, 'indices', Int32Array);
  const size = (args.attrs as unknown as { size: number }).size;
  const out = new Float32Array(size);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i] as number;
    out[j] = (out[j] as number) + (dy[i] as number);
  }
  return (args.backend as unknown as TypedArrayStorage).makeTensorInfo([size], 'float32', out);
}

/** (1 − a²)·t, each operation rounded to float32. */
function tanhSlope(args: KernelArgs): tf.TensorInfo {
  const a = values(args, 'a', Float32Array);
  const t = values(args, 't', Float32Array);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] as number;
    out[i] = Math.fround(1 - Math.fround(ai * ai)) * (t[i] as number);
  }
  return (args.backend as unknown as TypedArrayStorage).makeTensorInfo([...(args.inputs['a'] as tf.TensorInfo).shape], 'float32', out);
}

/** −2·a·t·g, each operation rounded to float32. */
function tanhCurvature(args: KernelArgs): tf.TensorInfo {
  const a = values(args, 'a', Float32Array);
  const t = values(args, 't', Float32Array);
  const g = values(args, 'g', Float32Array);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.fround(-2 * (a[i] as number) * (t[i] as number)) * (g[i] as number);
  return (args.backend as unknown as TypedArrayStorage).makeTensorInfo([...(args.inputs['a'] as tf.TensorInfo).shape], 'float32', out);
}

/** A faster implementation that may decline a case (returns undefined), as the native backend's. */
type OptionalKernel = (args: KernelArgs, backend: never) => tf.TensorInfo | undefined;

/**
 * Registers the kernels for `backendName` (a typed-array backend), once; where
 * `faster` has one by the same name, it runs first and these loops only when it declines.
 */
export function registerEngineKernels(backendName: string, faster?: ReadonlyMap<string, OptionalKernel>): void {
  const kernels: [string, tf.KernelFunc][] = [
    [FLAT_INDEX_KERNELS.maxPoolArgmax, maxPoolArgmax as tf.KernelFunc],
    [FLAT_INDEX_KERNELS.gatherFlat, gatherFlat as tf.KernelFunc],
    [FLAT_INDEX_KERNELS.scatterAddFlat, scatterAddFlat as tf.KernelFunc],
    [TANH_KERNELS.slope, tanhSlope as tf.KernelFunc],
    [TANH_KERNELS.curvature, tanhCurvature as tf.KernelFunc],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    const fast = faster?.get(kernelName);
    const run: tf.KernelFunc = fast ? (args) => fast(args, args.backend as never) ?? kernelFunc(args) : kernelFunc;
    if (tf.getKernel(kernelName, backendName) === undefined) tf.registerKernel({ kernelName, backendName, kernelFunc: run });
  }
}
