/**
 * What every dataset loader returns and the checks they share: the model's expectations
 * on inputs and labels, batch planning, cancellation points and file errors.
 */
import { CancelledError, MsifError } from '../../common/errors';
import { shapeText } from '../../common/jsonl';
import type { ErrorLocation } from '../../common/errors';
import type { DatasetSpec, LossName } from '../../common/workspaceConfig';
import type { ExampleSource, HostBatch } from '../../engine/data';

/** The on-disk format of a dataset. */
export type DatasetFormat = DatasetSpec['format'];

/** What the model needs from a dataset; every example is checked against it on open. */
export interface DatasetExpectation {
  /** The model's input shape without the batch axis, e.g. `[28, 28, 1]` or `[T]` for token ids. */
  readonly inputShape: readonly number[];
  readonly loss: LossName;
  /** Number of classes (logits) for `softmax_cross_entropy`; labels must lie in `[0, numClasses)`. */
  readonly numClasses?: number;
  /** The model's output shape without the batch axis; for `mse` labels must have as many values. */
  readonly outputShape?: readonly number[];
  /** Which dataset of the workspace this is, for messages, e.g. `pretrain.train`. */
  readonly role: string;
}

/** Options for opening a dataset. */
export interface DatasetOptions {
  /** Stops the scan of the files with a {@link CancelledError}. */
  readonly signal?: AbortSignal;
}

/** What the editor shows for one example. */
export interface ExampleDisplay {
  readonly id: string;
  readonly text?: string;
  /** Absolute path of the example's PNG. */
  readonly image?: string;
  /** The input as the model sees it, flattened row-major. */
  readonly x?: number[];
}

/** An opened, fully validated dataset. Examples stay on disk until a batch asks for them. */
export interface Dataset extends ExampleSource {
  /** The dataset file (the inputs file for IDX and NumPy). */
  readonly file: string;
  readonly format: DatasetFormat;
  /** One id per example, in dataset order. */
  ids(): readonly string[];
  /** 1-based line of example `index` (JSON Lines only). */
  lineOf(index: number): number | undefined;
  /** All labels, row-major, shape `[count, ...labelShape]`; a copy. */
  labels(): Float32Array;
  /** What to show for example `index`. */
  display(index: number): Promise<ExampleDisplay>;
}

/** A problem with a value, before the caller adds where it is. */
export interface Problem {
  readonly problem: string;
  readonly expected: string;
}

/** Builds the error for a {@link Problem} at `loc`. */
export function problemError(p: Problem, loc: ErrorLocation): MsifError {
  return new MsifError('dataset', p.problem, { ...loc, expected: p.expected });
}

/**
 * The labels a loss accepts: one integer class in `[0, numClasses)` for
 * `softmax_cross_entropy`, one 0/1 value for `sigmoid_cross_entropy`, and for `mse` as many
 * finite values as the model has outputs (or, without an output shape, as the first label).
 */
export class LabelRule {
  /** Shape of one label in batches: `[]` for classification, the output shape for `mse`. */
  readonly shape: readonly number[];
  /** Number of values in one label. */
  readonly size: number;

  /** The rule for `expect`; `firstShape` is the shape of the first label seen. */
  constructor(
    private readonly expect: DatasetExpectation,
    firstShape: readonly number[],
  ) {
    this.shape = expect.loss === 'mse' ? (expect.outputShape ?? firstShape) : [];
    this.size = product(this.shape);
  }

  /** Why a label of `shape` does not fit, if it does not. */
  shapeProblem(shape: readonly number[]): Problem | undefined {
    if (product(shape) === this.size) return undefined;
    const expected =
      this.expect.loss === 'mse'
        ? `${this.size} values (shape ${shapeText(this.shape)}, the model's output shape)`
        : `a single ${this.expect.loss === 'softmax_cross_entropy' ? 'class index' : '0/1 label'}`;
    return { problem: `has shape ${shapeText(shape)}`, expected };
  }

  /** Why the label `values[start .. start + size)` is not valid, if it is not. */
  valueProblem(values: ArrayLike<number>, start: number): Problem | undefined {
    const v = values[start]!;
    switch (this.expect.loss) {
      case 'softmax_cross_entropy': {
        const k = this.expect.numClasses;
        const expected = k === undefined ? 'an integer class ≥ 0' : `an integer class in [0, ${k})`;
        return Number.isInteger(v) && v >= 0 && (k === undefined || v < k) ? undefined : { problem: `is ${v}`, expected };
      }
      case 'sigmoid_cross_entropy':
        return v === 0 || v === 1 ? undefined : { problem: `is ${v}`, expected: '0 or 1' };
      case 'mse':
        for (let i = 0; i < this.size; i++) {
          const w = values[start + i]!;
          if (!Number.isFinite(Math.fround(w))) {
            return { problem: `holds ${w} at position ${i}`, expected: 'finite numbers within float32 range' };
          }
        }
        return undefined;
    }
  }
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Product of a shape's dimensions (1 for `[]`). */
export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The index lists of the batches for {@link ExampleSource.batches}: `indices` (default:
 * `0 .. count-1`) in runs of at most `batchSize`, produced lazily.
 *
 * @throws RangeError for a batch size that is not a positive integer or an index outside
 *   `[0, count)`: the caller's mistake, not the user's.
 */
export function* batchPlan(count: number, batchSize: number, indices?: readonly number[]): Generator<number[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size ${batchSize} is not a positive integer`);
  const total = indices ? indices.length : count;
  for (let from = 0; from < total; from += batchSize) {
    const batch: number[] = [];
    for (let k = from; k < Math.min(from + batchSize, total); k++) {
      batch.push(indices ? checkIndex(indices[k]!, count) : k);
    }
    yield batch;
  }
}

/** Returns `index` if it is an integer in `[0, count)`; throws RangeError otherwise. */
export function checkIndex(index: number, count: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`example index ${index} is outside [0, ${count})`);
  }
  return index;
}

/** A batch for `indices` with its labels filled in from `labels` and its inputs zeroed. */
export function emptyBatch(indices: readonly number[], rowSize: number, labels: Float32Array, labelSize: number): HostBatch {
  const y = new Float32Array(indices.length * labelSize);
  indices.forEach((i, k) => y.set(labels.subarray(i * labelSize, (i + 1) * labelSize), k * labelSize));
  return { indices, x: new Float32Array(indices.length * rowSize), y };
}

/** Throws {@link CancelledError} if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}

/** Lets pending events (such as a cancel message) run, then {@link throwIfAborted}. */
export async function checkpoint(signal: AbortSignal | undefined, what: string): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(signal, what);
}

/**
 * Turns a failure to read `file` into a user-facing error naming the file and the
 * workspace field it came from; other errors pass through.
 */
export function fileError(e: unknown, file: string, field: string, expected: string): unknown {
  if (e instanceof MsifError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new MsifError('dataset', 'file not found', { file, field, expected });
  if (code === 'EISDIR') return new MsifError('dataset', 'is a directory', { file, field, expected });
  if (typeof code === 'string') {
    return new MsifError('dataset', `cannot read the file: ${(e as Error).message}`, { file, field, expected });
  }
  return e;
}
