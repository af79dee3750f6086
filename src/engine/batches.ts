/**
 * Batches as tensors: either streamed from an {@link ExampleSource} one at a time, or
 * held for repeated passes (the Hessian sample, the finetuning set) by a {@link BatchSet}.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExampleSource, HostBatch } from './data';
import type { Model } from './model/model';
import { throwIfAborted } from './cancel';

export interface TensorBatch {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
  readonly n: number;
  readonly indices: readonly number[];
}

/** Converts a host batch to tensors shaped for `model`; the caller disposes them. */
export function toTensorBatch(model: Model, labelShape: readonly number[], b: HostBatch): TensorBatch {
  const n = b.indices.length;
  return { x: model.inputTensor(b.x, n), y: tf.tensor(b.y, [n, ...labelShape], 'float32'), n, indices: b.indices };
}

/** A set of batches kept as tensors for repeated passes; `dispose()` frees them. */
export class BatchSet {
  private constructor(
    readonly batches: readonly TensorBatch[],
    readonly count: number,
  ) {}

  /** Loads the examples at `indices` (all, when omitted) as tensors. */
  static async load(model: Model, source: ExampleSource, batchSize: number, indices?: readonly number[], signal?: AbortSignal): Promise<BatchSet> {
    const batches: TensorBatch[] = [];
    try {
      for await (const b of source.batches(batchSize, indices)) {
        throwIfAborted(signal);
        batches.push(toTensorBatch(model, source.labelShape, b));
      }
    } catch (e) {
      for (const b of batches) tf.dispose([b.x, b.y]);
      throw e;
    }
    return new BatchSet(batches, batches.reduce((s, b) => s + b.n, 0));
  }

  /** Builds a set from tensors already made (tests, in-memory data); takes ownership. */
  static of(batches: TensorBatch[]): BatchSet {
    return new BatchSet(batches, batches.reduce((s, b) => s + b.n, 0));
  }

  dispose(): void {
    for (const b of this.batches) tf.dispose([b.x, b.y]);
  }
}

/** Streams every example of `source` as tensor batches, disposing each after `fn`. */
export async function forEachBatch(
  model: Model,
  source: ExampleSource,
  batchSize: number,
  fn: (b: TensorBatch) => void,
  signal?: AbortSignal,
  indices?: readonly number[],
): Promise<void> {
  for await (const hb of source.batches(batchSize, indices)) {
    throwIfAborted(signal);
    const b = toTensorBatch(model, source.labelShape, hb);
    try {
      fn(b);
    } finally {
      tf.dispose([b.x, b.y]);
    }
    await yieldToEventLoop();
  }
}

/** Lets pending messages (a cancel) arrive between synchronous tensor steps. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
