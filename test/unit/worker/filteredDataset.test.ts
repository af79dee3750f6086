/**
 * Writing a pretraining set without some examples (data cleansing's `--write-filtered`):
 * JSON Lines lines kept byte for byte, IDX inputs as records, and the refusals that keep
 * the user's files safe.
 */
import * as assert from 'node:assert/strict';
import { promises as fs, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import { parseWorkspaceConfig } from '../../../src/common/workspaceConfig';
import { openDataset } from '../../../src/worker/datasets/openDataset';
import type { DatasetExpectation } from '../../../src/worker/datasets/dataset';
import { assertWritableOutput, filterJsonlBytes, nest, workspaceFiles, writeFilteredDataset } from '../../../src/worker/filteredDataset';
import { idxBytes, tempDir } from '../datasets/fixtures';

const dir = tempDir();
const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('filterJsonlBytes', () => {
  test('drops exactly the lines of the excluded records; every other byte stays', () => {
    // Records 0..3 on lines 1, 3, 4, 6 (lines 2 and 5 blank); CRLF on line 3; no final newline.
    const input = '{"x":0}\n\n{"x": 1}\r\n{"x":2}\n   \n{"x":3}';
    assert.equal(text(filterJsonlBytes(bytes(input), new Set([1]), 4, 'f')), '{"x":0}\n\n{"x":2}\n   \n{"x":3}');
    assert.equal(text(filterJsonlBytes(bytes(input), new Set([3]), 4, 'f')), '{"x":0}\n\n{"x": 1}\r\n{"x":2}\n   \n');
    assert.equal(text(filterJsonlBytes(bytes(input), new Set([0, 2]), 4, 'f')), '\n{"x": 1}\r\n   \n{"x":3}');
    assert.equal(text(filterJsonlBytes(bytes(input), new Set(), 4, 'f')), input);
  });

  test('keeps a byte-order mark when the first record goes', () => {
    const input = '\ufeff{"x":0}\n{"x":1}\n';
    assert.equal(text(filterJsonlBytes(bytes(input), new Set([0]), 2, 'f')), '\ufeff{"x":1}\n');
  });

  test('refuses a file that no longer holds the records it was loaded with', () => {
    assert.throws(() => filterJsonlBytes(bytes('{"x":0}\n'), new Set([0]), 2, 'data.jsonl'), (e: unknown) => e instanceof MsifError && /data\.jsonl.*1 records now, 2/.test(e.message));
  });
});

test('nest shapes a flat row-major array', () => {
  assert.equal(nest([4, 5], [], 1), 5);
  assert.deepEqual(nest([1, 2, 3, 4, 5, 6], [2, 3]), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(nest([1, 2, 3, 4], [2, 1, 2]), [[[1, 2]], [[3, 4]]]);
});

const expect: DatasetExpectation = { inputShape: [2], loss: 'softmax_cross_entropy', numClasses: 3, role: 'pretrain.train' };

describe('writeFilteredDataset', () => {
  test('JSON Lines: the written file is the input without the excluded lines, byte for byte', async () => {
    const input = path.join(dir, 'pre.jsonl');
    const lines = ['{"id":"a","x":[0,1],"y":0}', '{"id":"b","x":[1,1],"y":1}\r', '', '{"x":[2,1],"y":2, "text":"ü"}', '{"id":"d","x":[3,1],"y":0}'];
    writeFileSync(input, `${lines.join('\n')}\n`);
    const ds = await openDataset({ format: 'jsonl', path: input }, expect);
    const out = path.join(dir, 'filtered.jsonl');
    const r = await writeFilteredDataset(ds, [1, 2], out);
    assert.deepEqual(r, { written: 2, excluded: 2, mode: 'lines' });
    assert.equal(readFileSync(out, 'utf8'), `${lines[0]}\n\n${lines[4]}\n`);
    // The result is a valid dataset of the kept examples, in order.
    const kept = await openDataset({ format: 'jsonl', path: out }, expect);
    assert.deepEqual(kept.ids(), ['a', 'd']);
    // Nothing else is left in the folder (no temporary file).
    assert.deepEqual((await fs.readdir(dir)).filter((f) => f.includes('.tmp')), []);
  });

  test('IDX: records with the ids, the inputs (scaled) and the labels of the kept examples', async () => {
    const x = path.join(dir, 'x-idx-ubyte');
    const y = path.join(dir, 'y-idx-ubyte');
    writeFileSync(x, idxBytes('uint8', [3, 2], [0, 255, 10, 20, 30, 40]));
    writeFileSync(y, idxBytes('uint8', [3], [2, 0, 1]));
    const ds = await openDataset({ format: 'idx', x, y, scale: 0.5 }, expect);
    const out = path.join(dir, 'from-idx.jsonl');
    assert.deepEqual(await writeFilteredDataset(ds, [1], out), { written: 2, excluded: 1, mode: 'records' });
    const records = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(records, [
      { id: '0', x: [0, 127.5], y: 2 },
      { id: '2', x: [15, 20], y: 1 },
    ]);
  });

  test('rejects indices outside the dataset', async () => {
    const input = path.join(dir, 'small.jsonl');
    writeFileSync(input, '{"x":[0,0],"y":0}\n');
    const ds = await openDataset({ format: 'jsonl', path: input }, expect);
    await assert.rejects(writeFilteredDataset(ds, [1], path.join(dir, 'never.jsonl')), /cannot leave out example 1/);
  });
});

describe('assertWritableOutput and workspaceFiles', () => {
  const ws = path.join(dir, 'ws');
  const config = path.join(ws, 'msif.json');
  const setup = async (): Promise<string[]> => {
    await fs.mkdir(path.join(ws, 'models'), { recursive: true });
    for (const stage of ['pre', 'fin']) {
      await fs.writeFile(path.join(ws, 'models', `${stage}.json`), JSON.stringify({ weightsManifest: [{ paths: [`${stage}.bin`], weights: [] }] }));
      await fs.writeFile(path.join(ws, 'models', `${stage}.bin`), '');
    }
    for (const f of ['pre.jsonl', 'train.jsonl', 'test.jsonl']) await fs.writeFile(path.join(ws, f), '{"x":[0,0],"y":0}\n');
    const json = {
      version: 1,
      sharedLayers: ['a'],
      pretrain: { model: 'models/pre.json', train: 'pre.jsonl', loss: 'softmax_cross_entropy' },
      finetune: { model: 'models/fin.json', train: 'train.jsonl', test: 'test.jsonl', loss: 'softmax_cross_entropy' },
    };
    await fs.writeFile(config, JSON.stringify(json));
    return workspaceFiles(parseWorkspaceConfig(JSON.stringify(json), config));
  };

  test('lists msif.json, both models, their weight files and the datasets', async () => {
    const files = await setup();
    assert.deepEqual(
      files.map((f) => path.relative(ws, f)).sort(),
      ['models/fin.bin', 'models/fin.json', 'models/pre.bin', 'models/pre.json', 'msif.json', 'pre.jsonl', 'test.jsonl', 'train.jsonl'].sort(),
    );
  });

  test('refuses every file of the workspace, also through a symbolic link or a relative path', async () => {
    const files = await setup();
    for (const f of files) {
      await assert.rejects(assertWritableOutput(f, files, true), (e: unknown) => e instanceof MsifError && e.code === 'usage' && /refusing to write/.test(e.message));
    }
    const link = path.join(dir, 'link.jsonl');
    symlinkSync(path.join(ws, 'pre.jsonl'), link);
    await assert.rejects(assertWritableOutput(link, files, true), /refusing to write/);
    await assert.rejects(assertWritableOutput(path.relative(process.cwd(), path.join(ws, 'models', '..', 'pre.jsonl')), files, true), /refusing to write/);
  });

  test('refuses an existing file unless asked to overwrite, a directory, and a missing directory', async () => {
    const files = await setup();
    const existing = path.join(dir, 'exists.jsonl');
    writeFileSync(existing, 'keep me\n');
    await assert.rejects(assertWritableOutput(existing, files, false), /already exists/);
    await assertWritableOutput(existing, files, true);
    assert.equal(readFileSync(existing, 'utf8'), 'keep me\n');
    await assert.rejects(assertWritableOutput(dir, files, true), /is a directory/);
    await assert.rejects(assertWritableOutput(path.join(dir, 'no', 'such', 'f.jsonl'), files, false), /does not exist/);
    await assertWritableOutput(path.join(dir, 'new.jsonl'), files, false);
  });
});
