/** An {@link ExampleSource} over arrays in memory, for engine tests. */
import type { ExampleSource, HostBatch } from '../../../src/engine/data';

export class InMemorySource implements ExampleSource {
  readonly count: number;
  private readonly rowSize: number;
  private readonly labelSize: number;

  constructor(
    private readonly xs: Float32Array,
    private readonly ys: Float32Array,
    readonly exampleShape: readonly number[],
    readonly labelShape: readonly number[] = [],
  ) {
    this.rowSize = exampleShape.reduce((a, b) => a * b, 1);
    this.labelSize = labelShape.reduce((a, b) => a * b, 1);
    this.count = xs.length / this.rowSize;
  }

  async *batches(batchSize: number, indices?: readonly number[]): AsyncIterable<HostBatch> {
    const order = indices ?? Array.from({ length: this.count }, (_, i) => i);
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const x = new Float32Array(idx.length * this.rowSize);
      const y = new Float32Array(idx.length * this.labelSize);
      idx.forEach((i, k) => {
        x.set(this.xs.subarray(i * this.rowSize, (i + 1) * this.rowSize), k * this.rowSize);
        y.set(this.ys.subarray(i * this.labelSize, (i + 1) * this.labelSize), k * this.labelSize);
      });
      yield { indices: idx, x, y };
    }
  }
}
