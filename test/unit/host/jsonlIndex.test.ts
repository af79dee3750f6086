import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import { JsonlIndex, JsonlIndexCache } from '../../../src/host/data/jsonlIndex';

describe('JsonlIndex', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-idx-'));
    file = path.join(dir, 'd.jsonl');
    // A BOM, CRLF endings, blank lines, a multi-byte caption (offsets are bytes).
    const lines = ['\ufeff{"id":"a","x":[1],"y":0,"text":"é"}', '', '{"id":"b","x":[2],"y":1}', '   ', '{"x":[3],"y":2,"text":"日本"}', '{"x":[4],"y":3}'];
    await fs.writeFile(file, lines.join('\r\n'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('counts records and maps indices to 1-based lines and back', async () => {
    const index = await JsonlIndex.build(file);
    assert.equal(index.count, 4);
    assert.deepEqual([0, 1, 2, 3].map((i) => index.lineOf(i)), [1, 3, 5, 6]);
    assert.equal(index.lineOf(4), undefined);
    assert.equal(index.indexAtLine(5), 2);
    assert.equal(index.indexAtLine(2), undefined);
  });

  test('reads records at any index, skipping out-of-range ones', async () => {
    const index = await JsonlIndex.build(file);
    const records = await index.read([3, 0, 2, 9, 0]);
    assert.deepEqual([...records.keys()], [0, 2, 3]);
    assert.equal(records.get(0)?.text, 'é');
    assert.equal(records.get(2)?.text, '日本');
    assert.deepEqual(records.get(3)?.flatX.data, [4]);
  });

  test('a malformed record is an MsifError naming the line', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    await fs.writeFile(bad, '{"x":[1],"y":0}\n{"x":\n');
    const index = await JsonlIndex.build(bad);
    await assert.rejects(index.read([1]), (e: unknown) => e instanceof MsifError && e.location.line === 2);
  });

  test('the cache rebuilds when the file changes', async () => {
    const f = path.join(dir, 'c.jsonl');
    await fs.writeFile(f, '{"x":1,"y":0}\n');
    const cache = new JsonlIndexCache();
    const a = await cache.get(f);
    assert.equal(await cache.get(f), a);
    await fs.writeFile(f, '{"x":1,"y":0}\n{"x":2,"y":1}\n');
    const b = await cache.get(f);
    assert.equal(b.count, 2);
  });
});
