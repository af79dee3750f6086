/**
 * Max pooling as "pick the element at a constant flat index": optional backend kernels
 * that make the pooling layers of `Model.jvp` cost O(output) instead of O(k·output).
 *
 * ## Notes
 * A max-pool output is x at the (first) maximiser of its window. With the maximiser's flat
 * index into x held constant, value and tangent are both a gather, y = x[idx] and
 * ẏ = ẋ[idx], and the first-order gradient of a gather is a scatter-add: exactly the
 * derivatives the one-hot-mask formulation in `model.ts` gives, without materialising
 * `[N, Ho, Wo, C, kh·kw]` windows. The three kernels are not tfjs's: a backend may provide
 * them (src/worker/kernels/engineKernels.ts does for `cpu` and `native`), and
 * {@link flatIndexKernelsAvailable} says whether the active one does; without them the
 * engine uses the mask formulation, on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { padAmounts, type PoolGeometry } from './ops';

/** Kernel names a backend may register. */
export const FLAT_INDEX_KERNELS = {
  /** x `[N,H,W,C]` float32 → `[N,Ho,Wo,C]` int32: flat index into x of each window's first maximiser. */
  maxPoolArgmax: 'MsifMaxPoolArgmax',
  /** x (any shape) float32, indices int32 → float32 of the indices' shape: x.flat[indices]. */
  gatherFlat: 'MsifGatherFlat',
  /** dy float32, indices int32 (same shape), attr `size` → float32 `[size]`: Σ of dy over equal indices. */
  scatterAddFlat: 'MsifScatterAddFlat',
} as const;

/** Whether the active backend has all three kernels. */
export function flatIndexKernelsAvailable(): boolean {
  const backend = tf.getBackend();
  return Object.values(FLAT_INDEX_KERNELS).every((k) => tf.getKernel(k, backend) !== undefined);
}

/**
 * The `[N,H,W,C,KH,KW,Ho,Wo,strideH,strideW,padTop,padLeft]` geometry the argmax kernel takes
 * (padded cells never win: TensorFlow pads max pooling with −∞).
 */
export function poolGeometry(shape: readonly number[], g: PoolGeometry): number[] {
  const [n, h, w, c] = shape as [number, number, number, number];
  const ph = padAmounts(h, g.poolSize[0], g.strides[0], g.padding);
  const pw = padAmounts(w, g.poolSize[1], g.strides[1], g.padding);
  return [n, h, w, c, g.poolSize[0], g.poolSize[1], ph.out, pw.out, g.strides[0], g.strides[1], ph.before, pw.before];
}

/** Flat indices into x of each max-pool window's first maximiser (row-major window order); constant to autodiff. */
export function maxPoolArgmax(x: tf.Tensor4D, g: PoolGeometry): tf.Tensor4D {
  return tf.engine().runKernel(FLAT_INDEX_KERNELS.maxPoolArgmax, { x }, { geometry: poolGeometry(x.shape, g) } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The function type `tf.customGrad` takes (not exported by tfjs). */
type CustomGradient<T extends tf.Tensor> = Parameters<typeof tf.customGrad<T>>[0];

/**
 * t.flat[indices] with the gradient scatter-added back; `indices` is a constant.
 *
 * ```tex
 * y_j = t_{\mathrm{idx}_j}, \qquad \partial L/\partial t_i = \textstyle\sum_{j:\,\mathrm{idx}_j = i} \partial L/\partial y_j
 * ```
 */
export function gatherFlat(t: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const op = tf.customGrad(((tIn: tf.Tensor, save: tf.GradSaveFunc) => {
    // Saved so that the indices outlive the tidy scope that made them until backprop.
    save([indices]);
    return {
      value: tf.engine().runKernel(FLAT_INDEX_KERNELS.gatherFlat, { x: tIn, indices }, {}) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const flat = tf.engine().runKernel(FLAT_INDEX_KERNELS.scatterAddFlat, { dy, indices: saved[0] as tf.Tensor }, { size: tIn.size } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return tf.reshape(flat, tIn.shape);
      },
    };
  }) as unknown as CustomGradient<tf.Tensor>);
  return op(t);
}
