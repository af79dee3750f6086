/**
 * tanh in forward mode, (a, ȧ) = (tanh y, (1 − a²) ẏ), with first-order gradients that are
 * one fused kernel each where the backend has them: the composed ops (square, subtract,
 * multiply, and their generic gradients) make about three times as many full-size passes.
 *
 * ## Notes
 * Kernels a backend may provide (src/worker/kernels/engineKernels.ts does for `cpu` and
 * `native`); {@link tanhKernelsAvailable} says whether the active one does. Without them
 * `Model.jvp` uses the composed ops, on every backend, with the same maths.
 */
import * as tf from '@tensorflow/tfjs';

export const TANH_KERNELS = {
  /** a, t → (1 − a²)·t: tanh's derivative from its output, times t. */
  slope: 'MsifTanhSlope',
  /** a, t, g → −2·a·t·g: the derivative of (1 − a²)·t in a, times g. */
  curvature: 'MsifTanhCurvature',
} as const;

export function tanhKernelsAvailable(): boolean {
  const backend = tf.getBackend();
  return Object.values(TANH_KERNELS).every((k) => tf.getKernel(k, backend) !== undefined);
}

/** The function type `tf.customGrad` takes (not exported by tfjs). */
type CustomGradient<T extends tf.Tensor> = Parameters<typeof tf.customGrad<T>>[0];

const slope = (a: tf.Tensor, t: tf.Tensor): tf.Tensor => tf.engine().runKernel(TANH_KERNELS.slope, { a, t }, {}) as tf.Tensor;
const curvature = (a: tf.Tensor, t: tf.Tensor, g: tf.Tensor): tf.Tensor => tf.engine().runKernel(TANH_KERNELS.curvature, { a, t, g }, {}) as tf.Tensor;

/**
 * a = tanh(y) and ȧ = (1 − a²) ẏ, differentiable once (in y and ẏ) with fused kernels.
 *
 * ```tex
 * \bar y = (1 - a^2)\,\bar a \;-\; 2\,a\,\dot y\,(1 - a^2)\,\bar{\dot a}, \qquad \bar{\dot y} = (1 - a^2)\,\bar{\dot a}
 * ```
 * (the first term through a's own use, the second through ȧ's dependence on a).
 */
export function tanhDual(y: tf.Tensor, tangent: tf.Tensor | null): { value: tf.Tensor; tangent: tf.Tensor | null } {
  const value = tf.customGrad(((yIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const a = tf.tanh(yIn);
    save([a]);
    return { value: a, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => slope(saved[0] as tf.Tensor, dy) };
  }) as unknown as CustomGradient<tf.Tensor>)(y);
  if (!tangent) return { value, tangent: null };
  const dot = tf.customGrad(((aIn: tf.Tensor, tIn: tf.Tensor, save: tf.GradSaveFunc) => {
    save([aIn, tIn]);
    return {
      value: slope(aIn, tIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [a, t] = saved as [tf.Tensor, tf.Tensor];
        return [curvature(a, t, dy), slope(a, dy)];
      },
    };
  }) as unknown as CustomGradient<tf.Tensor>)(value, tangent);
  return { value, tangent: dot };
}
