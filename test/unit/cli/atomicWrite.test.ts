/** Output files appear whole or not at all. */
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import { assertCanCreate, writeFileAtomic } from '../../../src/cli/atomicWrite';

test('writeFileAtomic replaces the file and leaves no temporary file', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-atomic-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'report.json');
  await fs.writeFile(file, 'old');
  await writeFileAtomic(file, '{"new":true}\n');
  assert.equal(await fs.readFile(file, 'utf8'), '{"new":true}\n');
  assert.deepEqual(await fs.readdir(dir), ['report.json']);
});

test('writeFileAtomic fails with a one-line error and leaves nothing behind', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-atomic-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const target = path.join(dir, 'taken');
  await fs.mkdir(target); // renaming a file over a directory fails
  await assert.rejects(writeFileAtomic(target, 'x'), (e: unknown) => e instanceof MsifError && /^cannot write .*taken/.test(e.message));
  assert.deepEqual(await fs.readdir(dir), ['taken']);
});

test('assertCanCreate rejects a file in a missing directory', async () => {
  const file = path.join(os.tmpdir(), 'msif-no-such-dir', 'report.json');
  assert.ok(!existsSync(path.dirname(file)));
  await assert.rejects(assertCanCreate(file, '--out'), (e: unknown) => e instanceof MsifError && e.code === 'usage' && /msif-no-such-dir/.test(e.message));
  await assertCanCreate(path.join(os.tmpdir(), 'report.json'), '--out');
});
