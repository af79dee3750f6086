import * as assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isCancelled } from '../../../src/common/errors';
import { openDataset } from '../../../src/worker/datasets/openDataset';
import { collect, f32, rejectsWithDatasetError, tempDir } from './fixtures';
import type { DatasetExpectation } from '../../../src/worker/datasets/dataset';

const dir = tempDir();
let counter = 0;

/** Writes `text` to a fresh `.jsonl` file and returns its path. */
function jsonl(text: string): string {
  const file = path.join(dir, `d${counter++}.jsonl`);
  writeFileSync(file, text);
  return file;
}

const softmax: DatasetExpectation = { inputShape: [2, 2], loss: 'softmax_cross_entropy', numClasses: 3, role: 'pretrain.train' };

/** A record with input [[i, i+.5], [-i, 0.25]] and label i % 3. */
function record(i: number, extra = ''): string {
  return `{"x": [[${i}, ${i + 0.5}], [${-i}, 0.25]], "y": ${i % 3}${extra}}`;
}

describe('JSON Lines datasets', () => {
  it('round-trips inputs, labels, ids, lines and display fields', async () => {
    const first = record(0, ', "id": "a", "text": "first", "image": "img/a.png"');
    const file = jsonl([first, record(1), record(2, ', "id": 7')].join('\n') + '\n');
    const ds = await openDataset({ format: 'jsonl', path: file }, softmax);
    assert.equal(ds.format, 'jsonl');
    assert.equal(ds.file, file);
    assert.equal(ds.count, 3);
    assert.deepEqual(ds.exampleShape, [2, 2]);
    assert.deepEqual(ds.labelShape, []);
    assert.deepEqual(ds.ids(), ['a', '1', '7']);
    assert.deepEqual([0, 1, 2, 3].map((i) => ds.lineOf(i)), [1, 2, 3, undefined]);
    assert.deepEqual(Array.from(ds.labels()), [0, 1, 2]);

    const [batch, ...rest] = await collect(ds, 10);
    assert.equal(rest.length, 0);
    assert.deepEqual(batch!.indices, [0, 1, 2]);
    assert.deepEqual(Array.from(batch!.x), f32([0, 0.5, 0, 0.25, 1, 1.5, -1, 0.25, 2, 2.5, -2, 0.25]));
    assert.deepEqual(Array.from(batch!.y), [0, 1, 2]);

    assert.deepEqual(await ds.display(0), { id: 'a', text: 'first', image: path.join(dir, 'img/a.png'), x: [0, 0.5, 0, 0.25] });
    assert.deepEqual(await ds.display(2), { id: '7', x: [2, 2.5, -2, 0.25] });
    await assert.rejects(ds.display(3), RangeError);
  });

  it('skips blank lines but counts them, with CRLF and no final newline', async () => {
    const file = jsonl(`\r\n${record(0)}\r\n\r\n  \t\r\n${record(1)}\r\n${record(2)}`);
    const ds = await openDataset({ format: 'jsonl', path: file }, softmax);
    assert.equal(ds.count, 3);
    assert.deepEqual([0, 1, 2].map((i) => ds.lineOf(i)), [2, 5, 6]);
    const batches = await collect(ds, 2);
    assert.deepEqual(Array.from(batches[1]!.x), f32([2, 2.5, -2, 0.25]));
    const [picked] = await collect(ds, 5, [2, 0]);
    assert.deepEqual(Array.from(picked!.x), f32([2, 2.5, -2, 0.25, 0, 0.5, 0, 0.25]));
  });

  it('batches everything in order, with a last partial batch', async () => {
    const file = jsonl(Array.from({ length: 7 }, (_, i) => record(i)).join('\n'));
    const ds = await openDataset({ format: 'jsonl', path: file }, softmax);
    const batches = await collect(ds, 3);
    assert.deepEqual(batches.map((b) => b.indices), [[0, 1, 2], [3, 4, 5], [6]]);
    assert.deepEqual(batches.map((b) => b.x.length), [12, 12, 4]);
    assert.deepEqual(Array.from(batches[2]!.x), f32([6, 6.5, -6, 0.25]));
    assert.deepEqual(batches.flatMap((b) => Array.from(b.y)), [0, 1, 2, 0, 1, 2, 0]);
  });

  it('batches chosen indices in the order given, repeats included', async () => {
    const file = jsonl(Array.from({ length: 7 }, (_, i) => record(i)).join('\n'));
    const ds = await openDataset({ format: 'jsonl', path: file }, softmax);
    const batches = await collect(ds, 2, [5, 0, 3, 3, 6]);
    assert.deepEqual(batches.map((b) => b.indices), [[5, 0], [3, 3], [6]]);
    assert.deepEqual(batches.map((b) => Array.from(b.x).slice(0, 2)), [f32([5, 5.5]), f32([3, 3.5]), f32([6, 6.5])]);
    assert.deepEqual(batches.flatMap((b) => Array.from(b.y)), [2, 0, 0, 0, 0]);
    await assert.rejects(collect(ds, 2, [7]), RangeError);
    await assert.rejects(collect(ds, 0), RangeError);
  });

  it('accepts the labels of each loss', async () => {
    const sig = await openDataset(
      { format: 'jsonl', path: jsonl('{"x": [1], "y": 0}\n{"x": [2], "y": 1}\n') },
      { inputShape: [1], loss: 'sigmoid_cross_entropy', role: 'finetune.train' },
    );
    assert.deepEqual(Array.from(sig.labels()), [0, 1]);
    const mse = await openDataset(
      { format: 'jsonl', path: jsonl('{"x": [1], "y": [[0.5, 1.5]]}\n{"x": [2], "y": [[2, 3]]}\n') },
      { inputShape: [1], loss: 'mse', outputShape: [1, 2], role: 'finetune.train' },
    );
    assert.deepEqual(mse.labelShape, [1, 2]);
    assert.deepEqual(Array.from((await collect(mse, 1, [1]))[0]!.y), [2, 3]);
    // Token ids for an Embedding input are just numbers.
    const tokens = await openDataset(
      { format: 'jsonl', path: jsonl('{"x": [3, 1, 4, 1], "y": 0}\n') },
      { inputShape: [4], loss: 'softmax_cross_entropy', numClasses: 2, role: 'pretrain.train' },
    );
    assert.deepEqual(Array.from((await collect(tokens, 8))[0]!.x), [3, 1, 4, 1]);
  });

  describe('errors', () => {
    const open = (text: string, expect: DatasetExpectation = softmax): { file: string; promise: Promise<unknown> } => {
      const file = jsonl(text);
      return { file, promise: openDataset({ format: 'jsonl', path: file }, expect) };
    };

    it('names the file and line of a malformed line', async () => {
      const { file, promise } = open(`${record(0)}\n\n${record(1)}\n{"x": [[1, 2], [3, 4]], "y": 1,\n`);
      await rejectsWithDatasetError(promise, {
        file,
        line: 4,
        message: new RegExp(`${file.replace(/[.\\]/g, '\\$&')}:4: not valid JSON`),
      });
    });

    it('names the line and the expected shape for a wrong x shape', async () => {
      const { file, promise } = open(`${record(0)}\n{"x": [1, 2, 3, 4], "y": 1}\n`, { ...softmax, inputShape: [2, 2, 1] });
      await rejectsWithDatasetError(promise, {
        file,
        line: 1,
        field: 'x',
        message: /has shape \[2, 2\] \(expected shape \[2, 2, 1\]/,
      });
      const second = open(`${record(0)}\n{"x": [1, 2, 3, 4], "y": 1}\n`);
      await rejectsWithDatasetError(second.promise, { line: 2, field: 'x', message: /has shape \[4\]/ });
    });

    it('says that NaN is not allowed', async () => {
      const { promise } = open(`${record(0)}\n{"x": [[NaN, 1], [2, 3]], "y": 1}\n`);
      await rejectsWithDatasetError(promise, { line: 2, message: /NaN and Infinity are not allowed/ });
    });

    it('rejects a non-integer class and a class out of range', async () => {
      await rejectsWithDatasetError(open('{"x": [[1, 2], [3, 4]], "y": 1.5}').promise, {
        line: 1,
        field: 'y',
        message: /is 1\.5 \(expected an integer class in \[0, 3\)\)/,
      });
      await rejectsWithDatasetError(open(`${record(0)}\n{"x": [[1, 2], [3, 4]], "y": 3}`).promise, {
        line: 2,
        field: 'y',
        message: /is 3/,
      });
      await rejectsWithDatasetError(open('{"x": [[1, 2], [3, 4]], "y": -1}').promise, { field: 'y', message: /is -1/ });
      await rejectsWithDatasetError(open('{"x": [[1, 2], [3, 4]], "y": [1, 2]}').promise, {
        field: 'y',
        message: /has shape \[2\].*single class/,
      });
    });

    it('rejects a sigmoid label other than 0 or 1 and an mse label of the wrong size', async () => {
      const sig: DatasetExpectation = { inputShape: [1], loss: 'sigmoid_cross_entropy', role: 'r' };
      await rejectsWithDatasetError(open('{"x": [1], "y": 0.5}', sig).promise, { field: 'y', message: /is 0\.5 \(expected 0 or 1\)/ });
      const mse: DatasetExpectation = { inputShape: [1], loss: 'mse', outputShape: [3], role: 'r' };
      await rejectsWithDatasetError(open('{"x": [1], "y": [1, 2]}', mse).promise, { field: 'y', message: /expected 3 values/ });
      const mseFree: DatasetExpectation = { inputShape: [1], loss: 'mse', role: 'r' };
      await rejectsWithDatasetError(open('{"x": [1], "y": [1, 2]}\n{"x": [1], "y": [1]}', mseFree).promise, { line: 2, field: 'y' });
    });

    it('names the path and the role of a missing file', async () => {
      const file = path.join(dir, 'nope.jsonl');
      await rejectsWithDatasetError(openDataset({ format: 'jsonl', path: file }, softmax), {
        file,
        field: 'pretrain.train',
        message: /nope\.jsonl, field 'pretrain\.train': file not found/,
      });
      await rejectsWithDatasetError(openDataset({ format: 'jsonl', path: dir }, softmax), { file: dir, message: /not a file/ });
    });

    it('rejects an empty dataset', async () => {
      await rejectsWithDatasetError(open('').promise, { field: 'pretrain.train', message: /has no examples/ });
      await rejectsWithDatasetError(open('\n  \r\n\n').promise, { message: /has no examples/ });
    });
  });

  describe('streaming', () => {
    const lines = 20_000;
    const expect: DatasetExpectation = { inputShape: [3], loss: 'softmax_cross_entropy', numClasses: 10, role: 'pretrain.train' };
    const big = jsonl(Array.from({ length: lines }, (_, i) => `{"x": [${i}, 0.25, ${i % 7}], "y": ${i % 10}}`).join('\n') + '\n');

    it('gives each batch its own buffer of batchSize rows and no more', async () => {
      const ds = await openDataset({ format: 'jsonl', path: big }, expect);
      assert.equal(ds.count, lines);
      let seen = 0;
      for await (const b of ds.batches(64)) {
        const rows = Math.min(64, lines - seen);
        assert.equal(b.indices.length, rows);
        assert.equal(b.x.buffer.byteLength, rows * 3 * 4, 'x holds exactly this batch');
        assert.equal(b.y.buffer.byteLength, rows * 4, 'y holds exactly this batch');
        assert.equal(b.x[0], seen);
        seen += rows;
      }
      assert.equal(seen, lines);
    });

    it('reads the file lazily, batch by batch, in both modes', async () => {
      const file = jsonl(Array.from({ length: lines }, (_, i) => `{"x": [${i}, 0.25, 0], "y": 0}`).join('\n'));
      const ds = await openDataset({ format: 'jsonl', path: file }, expect);
      // After the first batch, change the last record in place (same length): a loader that
      // read everything up front would still yield the old value.
      const rewriteLast = (value: string): void => {
        const fd = openSync(file, 'r+');
        const size = Buffer.byteLength(`{"x": [${lines - 1}, 0.25, 0], "y": 0}`);
        writeSync(fd, `{"x": [${lines - 1}, ${value}, 0], "y": 0}`, statSync(file).size - size);
        closeSync(fd);
      };
      let last: Float32Array | undefined;
      let first = true;
      for await (const b of ds.batches(100)) {
        if (first) rewriteLast('0.75');
        first = false;
        last = b.x;
      }
      assert.equal(last![last!.length - 2], 0.75);

      first = true;
      for await (const b of ds.batches(1, [0, lines - 1])) {
        if (first) rewriteLast('0.50');
        first = false;
        last = b.x;
      }
      assert.equal(last![1], 0.5);
    });

    it('closes the file when the consumer stops early', { skip: !existsSync('/proc/self/fd') }, async () => {
      const ds = await openDataset({ format: 'jsonl', path: big }, expect);
      const fds = (): number => readdirSync('/proc/self/fd').length;
      const before = fds();
      for (const indices of [undefined, [5, 6, 7, 8]]) {
        for await (const b of ds.batches(2, indices)) {
          assert.equal(b.indices.length, 2);
          break;
        }
        for (let i = 0; i < 50 && fds() !== before; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(fds(), before, `no file left open (${indices ? 'indices' : 'stream'})`);
      }
    });

    it('stops the scan when the signal fires', async () => {
      const controller = new AbortController();
      const promise = openDataset({ format: 'jsonl', path: big }, expect, { signal: controller.signal });
      controller.abort();
      await assert.rejects(promise, (e: unknown) => isCancelled(e));
      const aborted = AbortSignal.abort();
      await assert.rejects(openDataset({ format: 'jsonl', path: big }, expect, { signal: aborted }), (e: unknown) => isCancelled(e));
    });
  });
});
