/**
 * First and second derivatives of a summed per-example loss with respect to a block of a
 * model's parameters: gradients, exact Hessian-vector products, and per-example
 * directional derivatives (the scoring dot products), all accumulated in float64.
 *
 * ## Notes
 * Symbols: θ → `model.params`, a block B ⊆ θ → {@link ParamBlock}, v → `vector`.
 * tfjs's shipped second-order gradients are not trustworthy (../shared/notes/tfjs-facts.md),
 * so nothing here nests `tf.grad`: a Hessian-vector product is reverse mode over the
 * forward-mode pass of `Model.jvp`, which needs correct first-order gradients only.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossName } from '../../common/workspaceConfig';
import type { Model, ParamSpec } from '../model/model';
import { perExampleLoss } from '../losses';
import type { TensorBatch } from '../batches';
import { sampleTensorMemory } from '../tensorMemory';

/** A subset of a model's parameters, flattened in order into one vector. */
export class ParamBlock {
  /** Indices into `model.paramSpecs`. */
  readonly indices: readonly number[];
  readonly specs: readonly ParamSpec[];
  /** Offset of each member in the block vector. */
  readonly offsets: readonly number[];
  readonly size: number;

  constructor(
    readonly model: Model,
    indices: readonly number[],
  ) {
    this.indices = [...indices];
    this.specs = this.indices.map((i) => model.paramSpecs[i] as ParamSpec);
    let off = 0;
    this.offsets = this.specs.map((s) => {
      const o = off;
      off += s.size;
      return o;
    });
    this.size = off;
  }

  /** The block of parameters belonging to the named layers (or to all others). */
  static ofLayers(model: Model, layers: ReadonlySet<string>, complement = false): ParamBlock {
    const idx: number[] = [];
    model.paramSpecs.forEach((s, i) => {
      if (layers.has(s.layer) !== complement) idx.push(i);
    });
    return new ParamBlock(model, idx);
  }

  static all(model: Model): ParamBlock {
    return new ParamBlock(model, model.paramSpecs.map((_, i) => i));
  }

  /** The block's slice of a vector over another block of the same model, zeros elsewhere. */
  projectFrom(other: ParamBlock, v: Float64Array): Float64Array {
    const out = new Float64Array(this.size);
    this.indices.forEach((pi, k) => {
      const j = other.indices.indexOf(pi);
      if (j < 0) return;
      const src = other.offsets[j] as number;
      out.set(v.subarray(src, src + (this.specs[k] as ParamSpec).size), this.offsets[k] as number);
    });
    return out;
  }

  /** Tensors for a block vector, as a full-length tangent list (null outside the block). */
  tangentOf(v: Float64Array): (tf.Tensor | null)[] {
    const out: (tf.Tensor | null)[] = this.model.paramSpecs.map(() => null);
    this.indices.forEach((pi, k) => {
      const s = this.specs[k] as ParamSpec;
      const o = this.offsets[k] as number;
      out[pi] = tf.tensor(Float32Array.from(v.subarray(o, o + s.size)), [...s.shape]);
    });
    return out;
  }

  /** The block's current parameter values as one float64 vector. */
  values(): Float64Array {
    const out = new Float64Array(this.size);
    this.indices.forEach((pi, k) => out.set((this.model.params[pi] as tf.Tensor).dataSync(), this.offsets[k] as number));
    return out;
  }

  /** Adds `scale ×` the block's part of per-parameter tensors into `acc`. */
  accumulate(acc: Float64Array, grads: readonly tf.Tensor[], scale = 1): void {
    grads.forEach((g, k) => {
      const d = g.dataSync();
      const o = this.offsets[k] as number;
      for (let i = 0; i < d.length; i++) acc[o + i] = (acc[o + i] as number) + scale * (d[i] as number);
    });
  }
}

/**
 * Σ over the batch of ℓ_i and of its gradient with respect to block B, added into `grad`.
 *
 * ```tex
 * \nabla_B \textstyle\sum_i \ell(x_i, y_i; \theta)
 * ```
 */
export function accumulateGradient(loss: LossName, block: ParamBlock, batch: TensorBatch, grad: Float64Array): number {
  const model = block.model;
  return tf.tidy(() => {
    let lossSum = 0;
    const f = (...ps: tf.Tensor[]): tf.Scalar => {
      const params = substitute(model.params, block.indices, ps);
      const l = perExampleLoss(loss, model.jvp(params, null, batch.x), batch.y);
      return tf.add(tf.sum(l.value), connect(ps)) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f)(block.indices.map((i) => model.params[i] as tf.Tensor));
    lossSum = value.dataSync()[0] as number;
    sampleTensorMemory();
    block.accumulate(grad, grads);
    return lossSum;
  });
}

/**
 * Exact Hessian-vector product of the summed batch loss, added into `out`: the rows of
 * block `rows`, the columns of block `cols` (`vector` lives on `cols`).
 *
 * ```tex
 * \mathrm{out} \mathrel{+}= \nabla_{R}\Big(\textstyle\sum_i \nabla_{C}\,\ell_i \cdot v\Big) = \Big(\textstyle\sum_i \partial^2 \ell_i / \partial R\,\partial C\Big)\, v
 * ```
 *
 * ## Method
 * Pearlmutter's R-operator: the forward-mode pass of `Model.jvp` with tangent v gives
 * Σ_i ∇ℓ_i·v as a differentiable function of θ; one reverse pass over it gives H v.
 */
export function accumulateHessianVectorProduct(
  loss: LossName,
  rows: ParamBlock,
  cols: ParamBlock,
  vector: Float64Array,
  batch: TensorBatch,
  out: Float64Array,
): void {
  const model = rows.model;
  tf.tidy(() => {
    const tangent = cols.tangentOf(vector);
    const f = (...ps: tf.Tensor[]): tf.Scalar => {
      const params = substitute(model.params, rows.indices, ps);
      const l = perExampleLoss(loss, model.jvp(params, tangent, batch.x), batch.y);
      const dot = l.tangent ? tf.sum(l.tangent) : tf.scalar(0);
      return tf.add(dot, connect(ps)) as tf.Scalar;
    };
    const grads = tf.grads(f)(rows.indices.map((i) => model.params[i] as tf.Tensor));
    sampleTensorMemory();
    rows.accumulate(out, grads);
  });
}

/**
 * Per-example losses and directional derivatives along a block vector: the scoring dot
 * products, for a whole batch in one forward-mode pass (no per-example backward pass).
 *
 * ```tex
 * d_i = \nabla_\theta \ell(x_i, y_i; \theta) \cdot v, \quad i = 1..n
 * ```
 */
export function directionalDerivatives(loss: LossName, block: ParamBlock, vector: Float64Array, batch: TensorBatch): { losses: Float32Array; derivatives: Float32Array } {
  return tf.tidy(() => {
    const l = perExampleLoss(loss, block.model.jvp(block.model.params, block.tangentOf(vector), batch.x), batch.y);
    sampleTensorMemory();
    return {
      losses: l.value.dataSync() as Float32Array,
      derivatives: l.tangent ? (l.tangent.dataSync() as Float32Array) : new Float32Array(batch.n),
    };
  });
}

function substitute(all: readonly tf.Tensor[], indices: readonly number[], ps: readonly tf.Tensor[]): tf.Tensor[] {
  const out = [...all];
  indices.forEach((pi, k) => {
    out[pi] = ps[k] as tf.Tensor;
  });
  return out;
}

/**
 * 0 · Σ p for each parameter: keeps every parameter on the tape, so that a parameter whose
 * derivative is identically zero (a bias beyond the last nonlinearity, say) gets a zero
 * gradient instead of a tfjs error.
 */
function connect(ps: readonly tf.Tensor[]): tf.Tensor {
  return ps.reduce<tf.Tensor>((acc, p) => tf.add(acc, tf.mul(0, tf.sum(p))), tf.scalar(0));
}
