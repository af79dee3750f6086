import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseNpy } from '../../../src/worker/datasets/npyDataset';
import { openDataset } from '../../../src/worker/datasets/openDataset';
import { collect, f32, npyBytes, rejectsWithDatasetError, tempDir } from './fixtures';
import type { DatasetExpectation } from '../../../src/worker/datasets/dataset';

const dir = tempDir();
let counter = 0;

/** Writes `bytes` to a fresh `.npy` file and returns its path. */
function file(bytes: Uint8Array): string {
  const p = path.join(dir, `a${counter++}.npy`);
  writeFileSync(p, bytes);
  return p;
}

// Five examples of shape [2, 2, 1] (float32) with int64 labels, as np.save writes by default.
const x = Array.from({ length: 20 }, (_, k) => k / 4 - 1);
const xFile = file(npyBytes('<f4', [5, 2, 2, 1], x));
const yFile = file(npyBytes('<i8', [5], [2, 0, 1, 2, 0]));
const expect: DatasetExpectation = { inputShape: [2, 2], loss: 'softmax_cross_entropy', numClasses: 3, role: 'finetune.train' };

describe('NumPy datasets', () => {
  it('round-trips float32 inputs and int64 labels, dropping a trailing 1 axis for a [2, 2] model', async () => {
    const ds = await openDataset({ format: 'npy', x: xFile, y: yFile, scale: 1 }, expect);
    assert.equal(ds.format, 'npy');
    assert.equal(ds.count, 5);
    assert.deepEqual(ds.exampleShape, [2, 2]);
    assert.deepEqual(Array.from(ds.labels()), [2, 0, 1, 2, 0]);
    const batches = await collect(ds, 2);
    assert.deepEqual(batches.map((b) => b.indices), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(batches.flatMap((b) => Array.from(b.x)), f32(x));
    const [picked] = await collect(ds, 3, [4, 1]);
    assert.deepEqual(Array.from(picked!.x), f32([...x.slice(16, 20), ...x.slice(4, 8)]));
    assert.deepEqual(Array.from(picked!.y), [0, 0]);
  });

  it('shares scale, classes and limit with IDX', async () => {
    const spec = { format: 'npy', x: xFile, y: yFile, scale: 2, classes: [2, 1], limit: 2 } as const;
    const ds = await openDataset(spec, { ...expect, numClasses: 2 });
    assert.equal(ds.count, 2); // rows 0 (class 2) and 2 (class 1)
    assert.deepEqual(Array.from(ds.labels()), [0, 1]);
    const [b] = await collect(ds, 10);
    assert.deepEqual(Array.from(b!.x), f32([...x.slice(0, 4), ...x.slice(8, 12)].map((v) => v * 2)));
  });

  it('reads version 2 headers, uint8 and bool arrays, and mse labels of the output shape', async () => {
    const bytes = file(npyBytes('|u1', [3, 2], [0, 255, 10, 20, 30, 40], { version: 2 }));
    const flags = file(npyBytes('|b1', [3, 1], [1, 0, 1]));
    const sig = await openDataset(
      { format: 'npy', x: bytes, y: flags, scale: 1 / 255 },
      { inputShape: [2], loss: 'sigmoid_cross_entropy', role: 'r' },
    );
    assert.deepEqual(Array.from(sig.labels()), [1, 0, 1]);
    assert.deepEqual(Array.from((await collect(sig, 1))[0]!.x), f32([0, 1]));

    const targets = file(npyBytes('<f8', [3, 2], [0.5, 1, 1.5, 2, 2.5, 3]));
    const mse = await openDataset(
      { format: 'npy', x: bytes, y: targets, scale: 1 },
      { inputShape: [2, 1], loss: 'mse', outputShape: [2], role: 'r' },
    );
    assert.deepEqual(mse.labelShape, [2]);
    assert.deepEqual(Array.from((await collect(mse, 2, [2]))[0]!.y), [2.5, 3]);
  });

  it('decodes big-endian and int32 data', () => {
    assert.deepEqual(Array.from(parseNpy(npyBytes('>f4', [2], [1.5, -2]), 'f', 'r').data), [1.5, -2]);
    assert.deepEqual(Array.from(parseNpy(npyBytes('<i4', [2], [-7, 9]), 'f', 'r').data), [-7, 9]);
    assert.deepEqual(parseNpy(npyBytes('<f8', [2, 3], [1, 2, 3, 4, 5, 6]), 'f', 'r').shape, [2, 3]);
  });

  describe('errors', () => {
    it('rejects Fortran order with a clear message', async () => {
      const fortran = file(npyBytes('<f4', [5, 2, 2], x, { fortranOrder: true }));
      await rejectsWithDatasetError(openDataset({ format: 'npy', x: fortran, y: yFile, scale: 1 }, expect), {
        file: fortran,
        field: 'finetune.train.x',
        message: /Fortran \(column-major\) order \(expected C order/,
      });
    });

    it('rejects unsupported dtypes, bad magic and short data', async () => {
      const half = file(npyBytes('<f2', [1], []));
      await rejectsWithDatasetError(openDataset({ format: 'npy', x: half, y: yFile, scale: 1 }, expect), {
        file: half,
        message: /unsupported dtype '<f2'/,
      });
      assert.throws(() => parseNpy(Buffer.from('not numpy at all'), 'f', 'r'), /not a NumPy \.npy file/);
      const full = npyBytes('<f4', [5, 2, 2], x);
      assert.throws(
        () => parseNpy(full.subarray(0, full.length - 4), 'f', 'r'),
        /holds 76 bytes of data but its header says float32 \[5, 2, 2\] \(expected 80 bytes/,
      );
      assert.throws(() => parseNpy(full.subarray(0, 20), 'f', 'r'), /truncated inside its header/);
    });

    it('rejects mismatched counts, a wrong shape and a NaN input', async () => {
      const fewer = file(npyBytes('<i8', [4], [0, 0, 0, 0]));
      await rejectsWithDatasetError(openDataset({ format: 'npy', x: xFile, y: fewer, scale: 1 }, expect), {
        file: fewer,
        message: /holds 4 labels but .* holds 5 examples/,
      });
      await rejectsWithDatasetError(openDataset({ format: 'npy', x: xFile, y: yFile, scale: 1 }, { ...expect, inputShape: [4] }), {
        file: xFile,
        message: /shape \[2, 2, 1\] \(expected shape \[4\]/,
      });
      const nan = file(npyBytes('<f8', [2, 2], [0, 1, Infinity, 3]));
      const y = file(npyBytes('<i8', [2], [0, 1]));
      await rejectsWithDatasetError(openDataset({ format: 'npy', x: nan, y, scale: 1 }, { ...expect, inputShape: [2] }), {
        file: nan,
        message: /row 1 holds Infinity at position 0/,
      });
    });
  });
});
