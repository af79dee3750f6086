/**
 * Per-example losses ℓ(z, y) on logits z, with their tangents ∇_z ℓ · ż, written in
 * differentiable ops so that reverse mode over them gives exact second derivatives.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossName } from '../common/workspaceConfig';
import { oneHotFloat, stopGradientMax } from './model/ops';
import type { Dual } from './model/model';

/**
 * Per-example losses `[n]` and, when `logits.tangent` is given, their tangents `[n]`.
 *
 * ```tex
 * \text{softmax\_cross\_entropy:}\quad \ell = \log\textstyle\sum_k e^{z_k} - z_y,\qquad \dot\ell = \langle \mathrm{softmax}(z) - e_y, \dot z\rangle \\
 * \text{sigmoid\_cross\_entropy:}\quad \ell = \log(1+e^{z}) - y z,\qquad \dot\ell = (\sigma(z) - y)\,\dot z \\
 * \text{mse:}\quad \ell = \tfrac{1}{d}\textstyle\sum_j (z_j - y_j)^2,\qquad \dot\ell = \tfrac{2}{d}\langle z - y, \dot z\rangle
 * ```
 *
 * `labels` holds class indices `[n]` (softmax), 0/1 `[n]` (sigmoid) or targets shaped like
 * the logits (mse).
 */
export function perExampleLoss(loss: LossName, logits: Dual, labels: tf.Tensor): Dual {
  const z = logits.value;
  const n = z.shape[0] as number;
  const zt = logits.tangent;
  switch (loss) {
    case 'softmax_cross_entropy': {
      const classes = z.shape[z.rank - 1] as number;
      const z2 = tf.reshape(z, [n, classes]);
      const onehot = oneHotFloat(tf.reshape(labels, [n]), classes);
      const m = stopGradientMax(z2, -1);
      const lse = tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(z2, m)), -1, true)));
      const value = tf.reshape(tf.sub(lse, tf.sum(tf.mul(z2, onehot), -1, true)), [n]);
      if (!zt) return { value, tangent: null };
      const p = tf.exp(tf.sub(z2, lse));
      const tangent = tf.sum(tf.mul(tf.sub(p, onehot), tf.reshape(zt, [n, classes])), -1);
      return { value, tangent };
    }
    case 'sigmoid_cross_entropy': {
      const z1 = tf.reshape(z, [n]);
      const y = tf.reshape(labels, [n]);
      const value = tf.sub(tf.softplus(z1), tf.mul(y, z1));
      return { value, tangent: zt && tf.mul(tf.sub(tf.sigmoid(z1), y), tf.reshape(zt, [n])) };
    }
    case 'mse': {
      const d = z.size / n;
      const diff = tf.reshape(tf.sub(z, tf.reshape(labels, z.shape)), [n, d]);
      const value = tf.mean(tf.square(diff), -1);
      return { value, tangent: zt && tf.mul(tf.sum(tf.mul(diff, tf.reshape(zt, [n, d])), -1), 2 / d) };
    }
  }
}

/** Predictions from logits: class index (softmax), 0/1 (sigmoid), or the outputs (mse). */
export function predictions(loss: LossName, logits: tf.Tensor): tf.Tensor {
  const n = logits.shape[0] as number;
  switch (loss) {
    case 'softmax_cross_entropy':
      return tf.argMax(tf.reshape(logits, [n, -1]), -1);
    case 'sigmoid_cross_entropy':
      return tf.cast(tf.greater(tf.reshape(logits, [n]), 0), 'int32');
    case 'mse':
      return logits;
  }
}
