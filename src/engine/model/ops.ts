/**
 * The few tensor operations whose shipped tfjs gradients we do not use, rewritten with
 * first-order gradients built only from forward kernels that every backend has.
 *
 * ## Notes
 * The engine never nests `tf.grad`: second derivatives come from differentiating a
 * forward-mode (JVP) pass once (see `autodiff/hessianVectorProduct.ts`). So each op
 * here needs a correct *first-order* gradient on every backend, nothing more. The wasm
 * backend lacks `Conv2DBackpropFilter` and `UnsortedSegmentSum`, and its `MaxPoolGrad`
 * is wrong for all-negative windows (../shared/notes/tfjs-facts.md): these ops avoid all
 * three.
 */
import * as tf from '@tensorflow/tfjs';

export type Padding = 'valid' | 'same';

/** The function type `tf.customGrad` takes (not exported by tfjs). */
type CustomGradient<T extends tf.Tensor> = Parameters<typeof tf.customGrad<T>>[0];

/** TensorFlow's explicit padding for one spatial axis: [before, after] and output size. */
export function padAmounts(size: number, kernel: number, stride: number, padding: Padding): { before: number; after: number; out: number } {
  if (padding === 'valid') {
    return { before: 0, after: 0, out: Math.floor((size - kernel) / stride) + 1 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before, out };
}

/**
 * Backends whose own `Conv2DBackpropFilter` kernel is trusted and faster than the
 * forward-convolution route below: MSIF's `native` (im2col + sgemm, test/unit/native/)
 * and tfjs-node's `tensorflow`. Elsewhere (wasm lacks it, cpu's is slow) the route below.
 */
const FILTER_GRADIENT_BACKENDS: ReadonlySet<string> = new Set(['native', 'tensorflow']);

/**
 * 2-D convolution, NHWC, with a first-order gradient that needs no kernel a backend lacks.
 *
 * ```tex
 * y_{n,i,j,o} = \sum_{a,b,c} x_{n, s i + a - p_t, s j + b - p_l, c} K_{a,b,c,o}
 * ```
 *
 * ## Method
 * ∂L/∂x is a transposed convolution (the `Conv2DBackpropInput` kernel, present on every
 * backend). ∂L/∂K is the backend's `Conv2DBackpropFilter` where trusted, elsewhere a forward
 * convolution with batch and channel axes swapped: `conv2d(xᵀ, dyᵀ, stride 1, dilation s)`
 * cropped to the kernel size.
 */
export function conv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: Padding): tf.Tensor4D {
  const op = tf.customGrad(((xIn: tf.Tensor, kIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const xx = xIn as tf.Tensor4D;
    const kk = kIn as tf.Tensor4D;
    save([xx, kk]);
    return {
      value: tf.conv2d(xx, kk, strides, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [conv2dInputGradient(dy as tf.Tensor4D, ks, xs.shape, strides, padding), conv2dFilterGradient(xs, dy as tf.Tensor4D, ks.shape, strides, padding)];
      },
    };
  }) as unknown as CustomGradient<tf.Tensor4D>);
  return op(x, kernel) as tf.Tensor4D;
}

/**
 * {@link conv2d} whose kernel is a constant to autodiff (a tangent K̇, a fixed filter): the
 * gradient reaches x only, and no filter gradient is computed.
 */
export function conv2dConstantKernel(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: Padding): tf.Tensor4D {
  const op = tf.customGrad(((xIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const xx = xIn as tf.Tensor4D;
    // Saved so that the kernel outlives the tidy scope that made it until backprop.
    save([xx, kernel]);
    return {
      value: tf.conv2d(xx, kernel, strides, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
        return conv2dInputGradient(dy as tf.Tensor4D, ks, xs.shape, strides, padding);
      },
    };
  }) as unknown as CustomGradient<tf.Tensor4D>);
  return op(x);
}

/**
 * {@link conv2d} whose input is a constant to autodiff (the model's input): the gradient
 * reaches the kernel only, and no input gradient is computed.
 */
export function conv2dConstantInput(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: Padding): tf.Tensor4D {
  const op = tf.customGrad(((kIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const kk = kIn as tf.Tensor4D;
    save([x, kk]);
    return {
      value: tf.conv2d(x, kk, strides, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
        return conv2dFilterGradient(xs, dy as tf.Tensor4D, ks.shape, strides, padding);
      },
    };
  }) as unknown as CustomGradient<tf.Tensor4D>);
  return op(kernel);
}

/** ∂L/∂x of {@link conv2d}: a transposed convolution, or on wasm (stride 1) a forward one. */
function conv2dInputGradient(dy: tf.Tensor4D, kernel: tf.Tensor4D, xShape: [number, number, number, number], strides: [number, number], padding: Padding): tf.Tensor4D {
  return strides[0] === 1 && strides[1] === 1 && tf.getBackend() === 'wasm'
    ? conv2dInputGradientByForwardConv(dy, kernel, xShape, padding)
    : tf.conv2dTranspose(dy, kernel, xShape, strides, padding);
}

/**
 * ∂L/∂x of a stride-1 {@link conv2d} as a forward convolution of the padded output gradient
 * with the flipped, transposed kernel. Used on wasm, whose forward convolution (XNNPACK) is
 * about 10× faster than its `Conv2DBackpropInput` (bench/results/kernels-*.json).
 *
 * ```tex
 * \partial L/\partial x_{n,m,l,c} = \sum_{a,b,o} \tilde{dy}_{n, m+a, l+b, o}\, K_{k_h-1-a,\, k_w-1-b,\, c,\, o}
 * ```
 * with dy padded by k−1−p_before before and (input − output + p_before) after, per axis.
 */
function conv2dInputGradientByForwardConv(dy: tf.Tensor4D, kernel: tf.Tensor4D, xShape: [number, number, number, number], padding: Padding): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = kernel.shape;
    const [, h, w] = xShape;
    const [, ho, wo] = dy.shape;
    const ph = padAmounts(h, kh, 1, padding);
    const pw = padAmounts(w, kw, 1, padding);
    const top = kh - 1 - ph.before;
    const left = kw - 1 - pw.before;
    const padded = tf.pad(dy, [
      [0, 0],
      [top, h + kh - 1 - ho - top],
      [left, w + kw - 1 - wo - left],
      [0, 0],
    ]);
    const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [kh,kw,O,C]
    return tf.conv2d(padded, flipped, 1, 'valid');
  });
}

/** ∂L/∂K of {@link conv2d}: the backend's own kernel where trusted, else by a forward convolution. */
function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kernelShape: [number, number, number, number], strides: [number, number], padding: Padding): tf.Tensor4D {
  if (FILTER_GRADIENT_BACKENDS.has(tf.getBackend())) {
    const attrs = { strides, pad: padding, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: kernelShape };
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return conv2dFilterGradientByForwardConv(x, dy, kernelShape, strides, padding);
}

/** ∂L/∂K of {@link conv2d} by a forward convolution (see there). */
function conv2dFilterGradientByForwardConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernelShape: [number, number, number, number],
  strides: [number, number],
  padding: Padding,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = kernelShape;
    const [, h, w] = x.shape;
    const ph = padAmounts(h, kh, strides[0], padding);
    const pw = padAmounts(w, kw, strides[1], padding);
    let xp = x;
    if (ph.before + ph.after + pw.before + pw.after > 0) {
      xp = tf.pad(x, [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]]);
    }
    // [N,H,W,C] → [C,H,W,N]: input channels become the batch, examples the channels.
    const xt = tf.transpose(xp, [3, 1, 2, 0]);
    // [N,Ho,Wo,O] → [Ho,Wo,N,O]: the output gradient becomes a (dilated) filter.
    const dyt = tf.transpose(dy, [1, 2, 0, 3]);
    const full = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', strides); // [C, ≥kh, ≥kw, O]
    const cropped = full.shape[1] === kh && full.shape[2] === kw ? full : tf.slice(full, [0, 0, 0, 0], [-1, kh, kw, -1]);
    return tf.transpose(cropped, [1, 2, 0, 3]) as tf.Tensor4D; // [kh,kw,C,O]
  });
}

/**
 * Rows of a matrix selected by integer ids (an embedding lookup), with a gradient that
 * scatters by `scatterND` (present on every backend) instead of `UnsortedSegmentSum`.
 *
 * ```tex
 * y_{\dots,d} = E_{\mathrm{ids}_{\dots}, d}
 * ```
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const idsInt = ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
  const [vocab, dim] = table.shape;
  const op = tf.customGrad(((tIn: tf.Tensor, save: tf.GradSaveFunc) => {
    save([idsInt]);
    return {
      value: tf.gather(tIn, idsInt),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const idx = saved[0] as tf.Tensor;
        const flatIds = tf.reshape(idx, [idx.size, 1]);
        const flatDy = tf.reshape(dy, [idx.size, dim]);
        return tf.scatterND(flatIds, flatDy, [vocab, dim]);
      },
    };
  }) as unknown as CustomGradient<tf.Tensor>);
  return op(table);
}

/** max over `axis` (kept), treated as a constant by autodiff: for stable log-sum-exp. */
export function stopGradientMax(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => {
    const m = tf.max(x, axis, true);
    const op = tf.customGrad(((mIn: tf.Tensor) => ({ value: tf.clone(mIn), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as CustomGradient<tf.Tensor>);
    return op(m);
  });
}

/** One-hot filters that copy each k×k window into k·k channels, for {@link windows}. */
function windowFilter(kh: number, kw: number): tf.Tensor4D {
  const data = new Float32Array(kh * kw * kh * kw);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const slot = a * kw + b;
      data[(a * kw + b) * kh * kw + slot] = 1;
    }
  }
  return tf.tensor4d(data, [kh, kw, 1, kh * kw]);
}

export interface PoolGeometry {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
}

/**
 * The pooling windows of an NHWC tensor as `[N·C, Ho, Wo, kh·kw]`, by a convolution with
 * one-hot filters (so its gradient is {@link conv2d}'s). `padValue` fills `same` padding.
 */
export function windows(x: tf.Tensor4D, g: PoolGeometry, padValue: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [kh, kw] = g.poolSize;
    const ph = padAmounts(h, kh, g.strides[0], g.padding);
    const pw = padAmounts(w, kw, g.strides[1], g.padding);
    let xp: tf.Tensor4D = x;
    if (ph.before + ph.after + pw.before + pw.after > 0) {
      xp = tf.pad(x, [[0, 0], [ph.before, ph.after], [pw.before, pw.after], [0, 0]], padValue);
    }
    const hp = h + ph.before + ph.after;
    const wp = w + pw.before + pw.after;
    const perChannel = tf.reshape(tf.transpose(xp, [0, 3, 1, 2]), [n * c, hp, wp, 1]) as tf.Tensor4D;
    return conv2dConstantKernel(perChannel, windowFilter(kh, kw), g.strides, 'valid');
  });
}

/**
 * The windows of non-overlapping 'valid' pooling (stride = pool size) as `[N, Ho, Wo, C, kh·kw]`,
 * by a reshape and one transpose: cheaper than {@link windows}, and already NHWC.
 */
export function tiledWindows(x: tf.Tensor4D, g: PoolGeometry): tf.Tensor5D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [kh, kw] = g.poolSize;
    const ho = Math.floor(h / kh);
    const wo = Math.floor(w / kw);
    const cropped = ho * kh === h && wo * kw === w ? x : tf.slice(x, [0, 0, 0, 0], [n, ho * kh, wo * kw, c]);
    const blocks = tf.transpose(tf.reshape(cropped, [n, ho, kh, wo, kw, c]), [0, 1, 3, 5, 2, 4]);
    return tf.reshape(blocks, [n, ho, wo, c, kh * kw]) as tf.Tensor5D;
  });
}

/** Whether {@link tiledWindows} applies: 'valid' padding and strides equal to the pool size. */
export function isTiled(g: PoolGeometry): boolean {
  return g.padding === 'valid' && g.strides[0] === g.poolSize[0] && g.strides[1] === g.poolSize[1];
}

/** `[N·C, Ho, Wo]` back to NHWC `[N, Ho, Wo, C]`. */
export function fromPerChannel(y: tf.Tensor3D, n: number, c: number): tf.Tensor4D {
  const [, ho, wo] = y.shape;
  return tf.transpose(tf.reshape(y, [n, c, ho, wo]), [0, 2, 3, 1]) as tf.Tensor4D;
}

/**
 * For average pooling with `same` padding: 1 / (number of real, unpadded cells) per
 * output position, as TensorFlow divides. Shape `[1, Ho, Wo, 1]`.
 */
export function averageDivisor(h: number, w: number, g: PoolGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const counts = tf.sum(windows(tf.ones([1, h, w, 1]) as tf.Tensor4D, g, 0), -1) as tf.Tensor3D;
    return tf.reciprocal(fromPerChannel(counts, 1, 1));
  });
}

/**
 * One-hot rows as float32. (tfjs-backend-wasm 4.22 writes the integer bit pattern when
 * `oneHot` is asked for float32 directly, so build int32 and cast.)
 */
export function oneHotFloat(indices: tf.Tensor, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(tf.cast(indices, 'int32'), depth), 'float32');
}
