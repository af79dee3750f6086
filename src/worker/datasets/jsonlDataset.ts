/**
 * JSON Lines datasets (contract §3). Opening streams the file once, validates every
 * record and keeps only where each record is (byte offset and length, line), its id,
 * caption, image and label. Batches read the inputs again from disk: by streaming for
 * the whole set in order, by positional reads for chosen indices.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { MsifError } from '../../common/errors';
import { parseJsonlRecord, shapeText } from '../../common/jsonl';
import { RecordScanner } from '../../common/lineRanges';
import {
  LabelRule,
  batchPlan,
  checkIndex,
  emptyBatch,
  fileError,
  problemError,
  product,
  sameShape,
  throwIfAborted,
} from './dataset';
import type { FileHandle } from 'node:fs/promises';
import type { RecordSlice } from '../../common/lineRanges';
import type { HostBatch } from '../../engine/data';
import type { Dataset, DatasetExpectation, DatasetOptions, ExampleDisplay } from './dataset';

const utf8 = new TextDecoder();

/** Where the records of an opened file are, and what is kept of each, by dataset index. */
interface RecordTable {
  readonly offsets: number[];
  readonly lengths: number[];
  readonly lines: number[];
  readonly ids: string[];
  readonly texts: Map<number, string>;
  readonly images: Map<number, string>;
  /** Labels, row-major. */
  readonly labels: number[];
}

/**
 * Opens the JSON Lines file `file` in one streaming pass, checking every record against
 * `expect`: `x` has exactly the model's input shape and `y` fits the loss (see
 * {@link LabelRule}).
 *
 * @throws MsifError (`dataset`) naming the file, and for a bad record its line and field;
 *   CancelledError when `opts.signal` fires during the scan.
 */
export async function openJsonlDataset(file: string, expect: DatasetExpectation, opts: DatasetOptions = {}): Promise<Dataset> {
  const what = `loading ${expect.role}`;
  const table: RecordTable = { offsets: [], lengths: [], lines: [], ids: [], texts: new Map(), images: new Map(), labels: [] };
  let rule: LabelRule | undefined;
  try {
    if (!(await stat(file)).isFile()) {
      throw new MsifError('dataset', 'is not a file', { file, field: expect.role, expected: 'a JSON Lines file' });
    }
    for await (const rec of readRecords(file)) {
      throwIfAborted(opts.signal, what);
      const line = rec.line;
      const r = parseJsonlRecord(utf8.decode(rec.bytes), { file, line });
      if (!sameShape(r.flatX.shape, expect.inputShape)) {
        throw new MsifError('dataset', `has shape ${shapeText(r.flatX.shape)}`, {
          file,
          line,
          field: 'x',
          expected: `shape ${shapeText(expect.inputShape)}, the model's input shape`,
        });
      }
      rule ??= new LabelRule(expect, r.flatY.shape);
      const bad = rule.shapeProblem(r.flatY.shape) ?? rule.valueProblem(r.flatY.data, 0);
      if (bad) throw problemError(bad, { file, line, field: 'y' });
      for (const v of r.flatY.data) table.labels.push(v);
      table.offsets.push(rec.start);
      table.lengths.push(rec.end - rec.start);
      table.lines.push(line);
      table.ids.push(r.id ?? String(rec.index));
      if (r.text !== undefined) table.texts.set(rec.index, r.text);
      if (r.image !== undefined) table.images.set(rec.index, r.image);
    }
  } catch (e) {
    throw fileError(e, file, expect.role, 'an existing JSON Lines file');
  }
  if (rule === undefined) {
    throw new MsifError('dataset', 'has no examples', {
      file,
      field: expect.role,
      expected: 'at least one line with a JSON object',
    });
  }
  return new JsonlDataset(file, expect.role, table, expect.inputShape, rule);
}

class JsonlDataset implements Dataset {
  readonly format = 'jsonl';
  readonly count: number;
  readonly labelShape: readonly number[];
  private readonly rowSize: number;
  private readonly labelData: Float32Array;

  constructor(
    readonly file: string,
    /** The workspace field the file was named in, for messages. */
    private readonly role: string,
    private readonly table: RecordTable,
    readonly exampleShape: readonly number[],
    private readonly rule: LabelRule,
  ) {
    this.count = table.ids.length;
    this.labelShape = rule.shape;
    this.rowSize = product(exampleShape);
    this.labelData = Float32Array.from(table.labels);
  }

  ids(): readonly string[] {
    return this.table.ids;
  }

  lineOf(index: number): number | undefined {
    return this.table.lines[index];
  }

  labels(): Float32Array {
    return this.labelData.slice();
  }

  async display(index: number): Promise<ExampleDisplay> {
    checkIndex(index, this.count);
    const handle = await this.openHandle();
    try {
      const [record] = await this.readAt(handle, [index]);
      const text = this.table.texts.get(index);
      const image = this.table.images.get(index);
      return {
        id: this.table.ids[index]!,
        ...(text !== undefined ? { text } : {}),
        ...(image !== undefined ? { image: path.resolve(path.dirname(this.file), image) } : {}),
        x: this.inputOf(record!, index),
      };
    } finally {
      await handle.close();
    }
  }

  batches(batchSize: number, indices?: readonly number[]): AsyncGenerator<HostBatch> {
    return indices ? this.batchesAt(batchSize, indices) : this.streamBatches(batchSize);
  }

  /** All examples in order, streaming the file once. */
  private async *streamBatches(batchSize: number): AsyncGenerator<HostBatch> {
    const records = readRecords(this.file);
    try {
      for (const batch of batchPlan(this.count, batchSize)) {
        const b = emptyBatch(batch, this.rowSize, this.labelData, this.rule.size);
        for (const [k, i] of batch.entries()) {
          const next = await records.next();
          if (next.done || next.value.line !== this.table.lines[i]) throw this.changed(i);
          b.x.set(this.inputOf(utf8.decode(next.value.bytes), i), k * this.rowSize);
        }
        yield b;
      }
    } catch (e) {
      throw fileError(e, this.file, this.role, 'the file that was opened');
    } finally {
      await records.return(undefined);
    }
  }

  /** The examples at `indices`, read by offset. */
  private async *batchesAt(batchSize: number, indices: readonly number[]): AsyncGenerator<HostBatch> {
    const handle = await this.openHandle();
    try {
      for (const batch of batchPlan(this.count, batchSize, indices)) {
        const b = emptyBatch(batch, this.rowSize, this.labelData, this.rule.size);
        const texts = await this.readAt(handle, batch);
        batch.forEach((i, k) => b.x.set(this.inputOf(texts[k]!, i), k * this.rowSize));
        yield b;
      }
    } finally {
      await handle.close();
    }
  }

  private async openHandle(): Promise<FileHandle> {
    try {
      return await open(this.file, 'r');
    } catch (e) {
      throw fileError(e, this.file, this.role, 'the file that was opened');
    }
  }

  /** The text of the records at `indices`, read into one buffer. */
  private async readAt(handle: FileHandle, indices: readonly number[]): Promise<string[]> {
    const { offsets, lengths } = this.table;
    const starts: number[] = [];
    let total = 0;
    for (const i of indices) {
      starts.push(total);
      total += lengths[i]!;
    }
    const buf = Buffer.allocUnsafe(total);
    await Promise.all(
      indices.map(async (i, k) => {
        const { bytesRead } = await handle.read(buf, starts[k]!, lengths[i]!, offsets[i]!);
        if (bytesRead !== lengths[i]) throw this.changed(i);
      }),
    );
    return indices.map((i, k) => utf8.decode(buf.subarray(starts[k]!, starts[k]! + lengths[i]!)));
  }

  /** The input of record `index`, parsed from `text`. */
  private inputOf(text: string, index: number): number[] {
    const { data } = parseJsonlRecord(text, { file: this.file, line: this.table.lines[index]! }).flatX;
    if (data.length !== this.rowSize) throw this.changed(index);
    return data;
  }

  private changed(index: number): MsifError {
    return new MsifError('dataset', 'changed on disk after it was opened', {
      file: this.file,
      line: this.table.lines[index],
      expected: 'the file to stay unchanged while in use (open it again)',
    });
  }
}

/** The records of `file`, streamed. */
async function* readRecords(file: string): AsyncGenerator<RecordSlice> {
  const scanner = new RecordScanner();
  for await (const chunk of createReadStream(file)) yield* scanner.push(chunk as Buffer);
  yield* scanner.end();
}
