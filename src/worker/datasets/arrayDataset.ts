/**
 * Datasets whose inputs and labels are arrays in two files (IDX or NumPy): reading the
 * files (gunzipping them when they start with the gzip magic 1f 8b) and everything the
 * two formats share: the x/y agreement, `classes`, `limit` and `scale`, and the checks
 * against the model. The arrays stay in their on-disk element type; rows become float32
 * one batch at a time.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { MsifError } from '../../common/errors';
import { shapeText } from '../../common/jsonl';
import {
  LabelRule,
  batchPlan,
  checkIndex,
  checkpoint,
  emptyBatch,
  fileError,
  problemError,
  product,
  sameShape,
  throwIfAborted,
} from './dataset';
import { isFloatType } from './numericArray';
import type { DatasetSpec } from '../../common/workspaceConfig';
import type { HostBatch } from '../../engine/data';
import type { Dataset, DatasetExpectation, DatasetOptions, ExampleDisplay } from './dataset';
import type { ArrayParser, NumericArray } from './numericArray';

/** A dataset spec with separate input and label files. */
export type ArraySpec = Extract<DatasetSpec, { readonly format: 'idx' | 'npy' }>;

const gunzipAsync = promisify(gunzip);

/** Rows between two {@link checkpoint}s while scanning. */
const ROWS_PER_CHECKPOINT = 4096;

/**
 * Opens the `x` and `y` files of `spec` with `parse` and checks them against `expect`:
 * both files hold the same number of examples; inputs have the model's input shape up to
 * size-1 axes (`[28, 28]` fits `[28, 28, 1]`); every selected label fits the loss; no
 * selected input holds NaN or ±Infinity (after `scale`). Examples whose label is not in
 * `spec.classes` are dropped and the rest relabelled by their position in that list; then
 * only the first `spec.limit` are kept.
 *
 * @throws MsifError (`dataset`) naming the file, the field (`pretrain.train.x`) and, for a
 *   bad value, the row in the file; CancelledError when `opts.signal` fires.
 */
export async function openArrayDataset(
  spec: ArraySpec,
  parse: ArrayParser,
  expect: DatasetExpectation,
  opts: DatasetOptions = {},
): Promise<Dataset> {
  const what = `loading ${expect.role}`;
  const fields: Fields = { x: `${expect.role}.x`, y: `${expect.role}.y` };
  const [x, y] = await Promise.all([
    readArray(spec, spec.x, fields.x, parse, opts.signal, what),
    readArray(spec, spec.y, fields.y, parse, opts.signal, what),
  ]);

  if (y.shape[0] !== x.shape[0]) {
    throw new MsifError('dataset', `holds ${y.shape[0]} labels but ${x.file} holds ${x.shape[0]} examples`, {
      file: y.file,
      field: fields.y,
      expected: 'one label per example',
    });
  }
  const fileShape = x.shape.slice(1);
  if (!sameUpToUnitAxes(fileShape, expect.inputShape)) {
    throw new MsifError('dataset', `holds examples of shape ${shapeText(fileShape)}`, {
      file: x.file,
      field: fields.x,
      expected: `shape ${shapeText(expect.inputShape)}, the model's input shape (only size-1 axes may differ)`,
    });
  }
  const labelShape = y.shape.slice(1);
  const rule = new LabelRule(expect, labelShape);
  const shapeProblem = rule.shapeProblem(labelShape);
  if (shapeProblem) {
    const problem = `holds labels that each ${shapeProblem.problem}`;
    throw problemError({ ...shapeProblem, problem }, { file: y.file, field: fields.y });
  }

  const classIndex = spec.classes && classPositions(spec.classes, expect, rule);
  const rowSize = product(fileShape);
  const rows = await selectRows({ x, y, rowSize, rule, classIndex, spec, fields, signal: opts.signal, what });
  if (rows.length === 0) {
    const problem = spec.classes ? `has no example with a label in classes [${spec.classes.join(', ')}]` : 'has no examples';
    throw new MsifError('dataset', problem, { file: y.file, field: fields.y, expected: 'at least one example' });
  }
  const labels = new Float32Array(rows.length * rule.size);
  rows.forEach((r, i) => {
    if (classIndex) labels[i] = classIndex.get(y.data[r]!)!;
    else labels.set(y.data.subarray(r * rule.size, (r + 1) * rule.size), i * rule.size);
  });
  return new ArrayDataset(spec.format, x, rows, rowSize, spec.scale, labels, rule, expect.inputShape);
}

/** The workspace fields of the two files, for messages (`pretrain.train.x`). */
interface Fields {
  readonly x: string;
  readonly y: string;
}

/**
 * The file rows that make up the dataset: those whose label is in `classIndex` (all when
 * it is undefined), at most `spec.limit` of them. Checks the label and, for float data,
 * the input of every row it keeps.
 */
async function selectRows(a: {
  readonly x: NumericArray;
  readonly y: NumericArray;
  readonly rowSize: number;
  readonly rule: LabelRule;
  readonly classIndex: ReadonlyMap<number, number> | undefined;
  readonly spec: ArraySpec;
  readonly fields: Fields;
  readonly signal: AbortSignal | undefined;
  readonly what: string;
}): Promise<number[]> {
  const { x, y, rowSize, rule, classIndex, spec, fields } = a;
  const limit = spec.limit ?? Infinity;
  const rows: number[] = [];
  for (let r = 0; r < x.shape[0]! && rows.length < limit; r++) {
    if (r % ROWS_PER_CHECKPOINT === ROWS_PER_CHECKPOINT - 1) await checkpoint(a.signal, a.what);
    let label: ArrayLike<number> = y.data;
    let start = r * rule.size;
    if (classIndex) {
      const raw = y.data[start]!;
      const position = classIndex.get(raw);
      if (position === undefined && Number.isFinite(raw)) continue;
      label = [position ?? raw];
      start = 0;
    }
    const bad = rule.valueProblem(label, start);
    if (bad) throw problemError({ ...bad, problem: `the label in row ${r} ${bad.problem}` }, { file: y.file, field: fields.y });
    if (isFloatType(x.type)) checkFinite(x, r, rowSize, spec.scale, fields.x);
    rows.push(r);
  }
  return rows;
}

class ArrayDataset implements Dataset {
  readonly file: string;
  readonly count: number;
  readonly labelShape: readonly number[];
  private idList: string[] | undefined;

  constructor(
    readonly format: ArraySpec['format'],
    private readonly x: NumericArray,
    /** File row of each example. */
    private readonly rows: readonly number[],
    private readonly rowSize: number,
    private readonly scale: number,
    private readonly labelData: Float32Array,
    private readonly rule: LabelRule,
    readonly exampleShape: readonly number[],
  ) {
    this.file = x.file;
    this.count = rows.length;
    this.labelShape = rule.shape;
  }

  ids(): readonly string[] {
    this.idList ??= Array.from({ length: this.count }, (_, i) => String(i));
    return this.idList;
  }

  lineOf(): undefined {
    return undefined;
  }

  labels(): Float32Array {
    return this.labelData.slice();
  }

  async display(index: number): Promise<ExampleDisplay> {
    const row = new Float32Array(this.rowSize);
    this.copyRow(checkIndex(index, this.count), row, 0);
    return { id: String(index), x: Array.from(row) };
  }

  async *batches(batchSize: number, indices?: readonly number[]): AsyncGenerator<HostBatch> {
    for (const batch of batchPlan(this.count, batchSize, indices)) {
      const b = emptyBatch(batch, this.rowSize, this.labelData, this.rule.size);
      batch.forEach((i, k) => this.copyRow(i, b.x, k * this.rowSize));
      yield b;
    }
  }

  /** Writes example `index`, scaled, to `out[at ..]`. */
  private copyRow(index: number, out: Float32Array, at: number): void {
    const base = this.rows[index]! * this.rowSize;
    const src = this.x.data.subarray(base, base + this.rowSize);
    if (this.scale === 1) {
      out.set(src, at);
    } else {
      for (let j = 0; j < this.rowSize; j++) out[at + j] = src[j]! * this.scale;
    }
  }
}

async function readArray(
  spec: ArraySpec,
  file: string,
  field: string,
  parse: ArrayParser,
  signal: AbortSignal | undefined,
  what: string,
): Promise<NumericArray> {
  const expected = spec.format === 'idx' ? 'an IDX file, optionally gzipped' : 'a NumPy .npy file';
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file, signal ? { signal } : {});
  } catch (e) {
    throwIfAborted(signal, what);
    throw fileError(e, file, field, expected);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (e) {
      throw new MsifError('dataset', `is not a valid gzip file: ${(e as Error).message}`, { file, field, expected });
    }
  }
  throwIfAborted(signal, what);
  return parse(bytes, file, field);
}

/** Map from raw label to its position in `classes`, after checking the list. */
function classPositions(classes: readonly number[], expect: DatasetExpectation, rule: LabelRule): Map<number, number> {
  const field = `${expect.role}.classes`;
  if (rule.size !== 1) {
    throw new MsifError('dataset', `is set but labels have ${rule.size} values`, {
      field,
      expected: 'a single class label per example',
    });
  }
  const k = expect.numClasses;
  if (expect.loss === 'softmax_cross_entropy' && k !== undefined && classes.length > k) {
    throw new MsifError('dataset', `lists ${classes.length} classes but the model has ${k}`, {
      field,
      expected: `at most ${k} classes`,
    });
  }
  const index = new Map<number, number>();
  classes.forEach((c, i) => {
    if (index.has(c)) throw new MsifError('dataset', `lists class ${c} twice`, { field, expected: 'distinct class labels' });
    index.set(c, i);
  });
  return index;
}

/** Throws if row `r` of `x`, scaled, holds a value that is not a finite float32. */
function checkFinite(x: NumericArray, r: number, rowSize: number, scale: number, field: string): void {
  for (let j = r * rowSize; j < (r + 1) * rowSize; j++) {
    const v = x.data[j]!;
    if (!Number.isFinite(Math.fround(v * scale))) {
      throw new MsifError('dataset', `row ${r} holds ${v} at position ${j - r * rowSize}`, {
        file: x.file,
        field,
        expected: scale === 1 ? 'finite numbers' : `finite numbers (also after scaling by ${scale})`,
      });
    }
  }
}

/** True when `a` and `b` are equal once their size-1 axes are removed (same row-major layout). */
function sameUpToUnitAxes(a: readonly number[], b: readonly number[]): boolean {
  return sameShape(
    a.filter((d) => d !== 1),
    b.filter((d) => d !== 1),
  );
}
