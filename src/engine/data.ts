/**
 * What the engine needs from a dataset: batches of examples as flat typed arrays. The
 * worker implements this over files; tests implement it over arrays. No I/O here.
 */

/** A batch of examples in host memory, ready to become tensors. */
export interface HostBatch {
  /** Dataset indices (0-based, dataset order) of the examples in this batch. */
  readonly indices: readonly number[];
  /** Inputs, row-major, shape `[indices.length, ...exampleShape]`. */
  readonly x: Float32Array;
  /** Labels, row-major, shape `[indices.length, ...labelShape]` (`[n]` for class labels). */
  readonly y: Float32Array;
}

export interface ExampleSource {
  /** Number of examples. */
  readonly count: number;
  /** Shape of one input, without the batch axis. */
  readonly exampleShape: readonly number[];
  /** Shape of one label, without the batch axis (`[]` for a class index or 0/1). */
  readonly labelShape: readonly number[];
  /**
   * Yields the examples in batches of at most `batchSize`: all of them in dataset order,
   * or those at `indices` in the order given. Never holds the whole set at once.
   */
  batches(batchSize: number, indices?: readonly number[]): AsyncIterable<HostBatch>;
}
