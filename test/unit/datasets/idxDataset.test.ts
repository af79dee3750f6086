import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isCancelled } from '../../../src/common/errors';
import { parseIdx } from '../../../src/worker/datasets/idxDataset';
import { openDataset } from '../../../src/worker/datasets/openDataset';
import { collect, f32, idxBytes, rejectsWithDatasetError, tempDir } from './fixtures';
import type { ArraySpec } from '../../../src/worker/datasets/arrayDataset';
import type { DatasetExpectation } from '../../../src/worker/datasets/dataset';

const dir = tempDir();
let counter = 0;

/** Writes `bytes` to a fresh file and returns its path. */
function file(bytes: Uint8Array, suffix = '-idx-ubyte'): string {
  const p = path.join(dir, `f${counter++}${suffix}`);
  writeFileSync(p, bytes);
  return p;
}

// Six 2×3 "images": pixel j of image i is 10·i + j; labels 0..5 cycle through 3, 1, 4, 1, 5, 9.
const N = 6;
const pixels = Array.from({ length: N * 6 }, (_, k) => 10 * Math.floor(k / 6) + (k % 6));
const labels = [3, 1, 4, 1, 5, 9];
const images = file(idxBytes('uint8', [N, 2, 3], pixels));
const labelFile = file(idxBytes('uint8', [N], labels));

const expect: DatasetExpectation = { inputShape: [2, 3, 1], loss: 'softmax_cross_entropy', numClasses: 10, role: 'pretrain.train' };
const spec = (over: Partial<ArraySpec> = {}): ArraySpec => ({
  format: 'idx',
  x: images,
  y: labelFile,
  scale: 1,
  ...over,
});

describe('IDX datasets', () => {
  it('round-trips images and labels, accepting [rows, cols] for a [rows, cols, 1] model', async () => {
    const ds = await openDataset(spec(), expect);
    assert.equal(ds.format, 'idx');
    assert.equal(ds.file, images);
    assert.equal(ds.count, N);
    assert.deepEqual(ds.exampleShape, [2, 3, 1]);
    assert.deepEqual(ds.labelShape, []);
    assert.deepEqual(ds.ids(), ['0', '1', '2', '3', '4', '5']);
    assert.equal(ds.lineOf(0), undefined);
    assert.deepEqual(Array.from(ds.labels()), labels);
    const batches = await collect(ds, 4);
    assert.deepEqual(batches.map((b) => b.indices), [[0, 1, 2, 3], [4, 5]]);
    assert.deepEqual(batches.flatMap((b) => Array.from(b.x)), pixels);
    assert.deepEqual(batches.flatMap((b) => Array.from(b.y)), labels);
    assert.deepEqual((await ds.display(2)).x, [20, 21, 22, 23, 24, 25]);
  });

  it('reads gzipped files the same way (detected by the 1f 8b magic)', async () => {
    const x = file(gzipSync(idxBytes('uint8', [N, 2, 3], pixels)), '.gz');
    const y = file(gzipSync(idxBytes('uint8', [N], labels)), '.gz');
    const gz = await openDataset(spec({ x, y }), expect);
    assert.deepEqual((await collect(gz, 100))[0]!.x, (await collect(await openDataset(spec(), expect), 100))[0]!.x);
    assert.deepEqual(Array.from(gz.labels()), labels);
  });

  it('applies scale per batch and batches chosen indices in order', async () => {
    const ds = await openDataset(spec({ scale: 1 / 255 }), expect);
    const [b] = await collect(ds, 10, [5, 0]);
    assert.deepEqual(b!.indices, [5, 0]);
    assert.deepEqual(Array.from(b!.x), f32([...pixels.slice(30, 36), ...pixels.slice(0, 6)].map((v) => v / 255)));
    assert.deepEqual(Array.from(b!.y), [9, 3]);
  });

  it('keeps only the listed classes, relabelled by position, then the first `limit`', async () => {
    const ds = await openDataset(spec({ classes: [1, 9] }), { ...expect, numClasses: 2 });
    assert.equal(ds.count, 3); // rows 1, 3, 5
    assert.deepEqual(Array.from(ds.labels()), [0, 0, 1]);
    const [b] = await collect(ds, 10);
    assert.deepEqual(Array.from(b!.x).filter((_, k) => k % 6 === 0), [10, 30, 50]);
    assert.deepEqual((await ds.display(2)).x?.[0], 50);

    const limited = await openDataset(spec({ classes: [9, 1], limit: 2 }), expect);
    assert.deepEqual(Array.from(limited.labels()), [1, 1]);
    assert.deepEqual(Array.from((await collect(limited, 10))[0]!.x).filter((_, k) => k % 6 === 0), [10, 30]);
    assert.equal((await openDataset(spec({ limit: 4 }), expect)).count, 4);
    assert.equal((await openDataset(spec({ limit: 40 }), expect)).count, N);
  });

  it('decodes big-endian int16, int32, float32 and float64', () => {
    assert.deepEqual(Array.from(parseIdx(idxBytes('int16', [3], [-2, 300, 7]), 'f', 'r').data), [-2, 300, 7]);
    assert.deepEqual(Array.from(parseIdx(idxBytes('int32', [2], [-70000, 5]), 'f', 'r').data), [-70000, 5]);
    assert.deepEqual(Array.from(parseIdx(idxBytes('int8', [2], [-3, 4]), 'f', 'r').data), [-3, 4]);
    const f = parseIdx(idxBytes('float32', [2, 2], [0.5, -1.25, 3, 4]), 'f', 'r');
    assert.deepEqual(f.shape, [2, 2]);
    assert.equal(f.type, 'float32');
    assert.deepEqual(Array.from(f.data), [0.5, -1.25, 3, 4]);
    assert.deepEqual(Array.from(parseIdx(idxBytes('float64', [1], [0.1]), 'f', 'r').data), [0.1]);
  });

  describe('errors', () => {
    it('rejects files whose example counts differ', async () => {
      const y = file(idxBytes('uint8', [N - 1], labels.slice(1)));
      await rejectsWithDatasetError(openDataset(spec({ y }), expect), {
        file: y,
        field: 'pretrain.train.y',
        message: /holds 5 labels but .* holds 6 examples/,
      });
    });

    it('names the file and both shapes when the images do not fit the model', async () => {
      await rejectsWithDatasetError(openDataset(spec(), { ...expect, inputShape: [6] }), {
        file: images,
        field: 'pretrain.train.x',
        message: /holds examples of shape \[2, 3\] \(expected shape \[6\]/,
      });
      await rejectsWithDatasetError(openDataset(spec(), { ...expect, inputShape: [3, 2, 1] }), { message: /\[2, 3\].*\[3, 2, 1\]/ });
    });

    it('names the row of a NaN input or a bad label', async () => {
      const x = file(idxBytes('float32', [3, 2], [0, 1, 2, NaN, 4, 5]));
      const y = file(idxBytes('uint8', [3], [0, 1, 2]));
      await rejectsWithDatasetError(openDataset(spec({ x, y }), { ...expect, inputShape: [2] }), {
        file: x,
        field: 'pretrain.train.x',
        message: /row 1 holds NaN at position 1/,
      });
      await rejectsWithDatasetError(openDataset(spec(), { ...expect, numClasses: 5 }), {
        file: labelFile,
        field: 'pretrain.train.y',
        message: /the label in row 4 is 5 \(expected an integer class in \[0, 5\)\)/,
      });
      const flags = file(idxBytes('float32', [N], [0, 1, 0.5, 1, 0, 1]));
      await rejectsWithDatasetError(openDataset(spec({ y: flags }), { ...expect, loss: 'sigmoid_cross_entropy' }), {
        message: /row 2 is 0\.5 \(expected 0 or 1\)/,
      });
    });

    it('rejects bad headers and sizes', async () => {
      const bad = file(Buffer.from([1, 2, 3, 4, 5]));
      await rejectsWithDatasetError(openDataset(spec({ x: bad }), expect), {
        file: bad,
        field: 'pretrain.train.x',
        message: /not an IDX file/,
      });
      const unknownType = file(Buffer.from([0, 0, 0x0a, 1, 0, 0, 0, 0]));
      await rejectsWithDatasetError(openDataset(spec({ x: unknownType }), expect), { message: /unknown IDX type byte 0x0a/ });
      const truncated = file(idxBytes('uint8', [N, 2, 3], pixels).subarray(0, 20));
      await rejectsWithDatasetError(openDataset(spec({ x: truncated }), expect), {
        file: truncated,
        message: /holds 4 bytes of data .*expected 36 bytes/,
      });
      const notGzip = file(Buffer.from([0x1f, 0x8b, 0, 0]));
      await rejectsWithDatasetError(openDataset(spec({ x: notGzip }), expect), { message: /not a valid gzip file/ });
    });

    it('rejects a missing file, naming its path and role', async () => {
      const y = path.join(dir, 'missing-labels');
      await rejectsWithDatasetError(openDataset(spec({ y }), { ...expect, role: 'finetune.test' }), {
        file: y,
        field: 'finetune.test.y',
        message: /file not found/,
      });
    });

    it('rejects bad class lists and an empty selection', async () => {
      await rejectsWithDatasetError(openDataset(spec({ classes: [2, 7] }), expect), {
        message: /no example with a label in classes \[2, 7\]/,
      });
      await rejectsWithDatasetError(openDataset(spec({ classes: [1, 1] }), expect), {
        field: 'pretrain.train.classes',
        message: /twice/,
      });
      await rejectsWithDatasetError(openDataset(spec({ classes: [1, 3, 4] }), { ...expect, numClasses: 2 }), {
        message: /lists 3 classes but the model has 2/,
      });
    });

    it('honours an aborted signal', async () => {
      await assert.rejects(openDataset(spec(), expect, { signal: AbortSignal.abort() }), (e: unknown) => isCancelled(e));
    });
  });
});
