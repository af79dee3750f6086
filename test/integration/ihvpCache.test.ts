/**
 * The disk cache of influence solves (src/worker/ihvpCache.ts) through `runTrace`: a
 * repeated query is a hit with the same scores and no solve phases; a changed data file,
 * a changed setting or another test selection is a miss; a damaged entry is a miss that
 * recomputes; MSIF_CACHE=off and `noCache` turn it off.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTrace } from '../../src/worker/jobs';
import { ihvpCacheDir } from '../../src/worker/ihvpCache';
import { createTinyWorkspace, QUICK_INFLUENCE, type TinyWorkspace } from '../unit/worker/tinyWorkspace';

describe('influence solve cache', () => {
  let ws: TinyWorkspace;
  let cacheDir: string;
  const saved = { dir: process.env['MSIF_CACHE_DIR'], off: process.env['MSIF_CACHE'] };

  before(async () => {
    ws = await createTinyWorkspace(QUICK_INFLUENCE);
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-cache-test-'));
    process.env['MSIF_CACHE_DIR'] = cacheDir;
    delete process.env['MSIF_CACHE'];
  });

  after(async () => {
    for (const [k, v] of [['MSIF_CACHE_DIR', saved.dir], ['MSIF_CACHE', saved.off]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await ws.dispose();
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  const solvePhases = (r: Awaited<ReturnType<typeof runTrace>>): string[] => r.diagnostics.phases.map((p) => p.name).filter((n) => n.endsWith('-ihvp'));

  it('stores on the first run and reuses on the second, with identical scores', async () => {
    const first = await runTrace(ws.config, { test: 'all' });
    assert.equal(first.diagnostics.cache?.hit, false);
    assert.ok(solvePhases(first).length > 0);
    assert.equal((await fs.readdir(cacheDir)).filter((f) => f.endsWith('.json')).length, 1);
    const second = await runTrace(ws.config, { test: 'all', top: 3 });
    assert.equal(second.diagnostics.cache?.hit, true);
    assert.equal(second.diagnostics.cache?.key, first.diagnostics.cache?.key);
    assert.deepEqual(solvePhases(second), []);
    assert.deepEqual(second.scores, first.scores);
    assert.deepEqual(second.diagnostics.solves, first.diagnostics.solves);
    assert.deepEqual(second.diagnostics.gradientNorms, first.diagnostics.gradientNorms);
    assert.equal(second.harmful.length, 3);
  });

  it('misses for another test selection, case or setting', async () => {
    const base = await runTrace(ws.config, { test: 'all' });
    for (const options of [{ test: '0' }, { test: 'all', case: 'updated' as const }, { test: 'all', overrides: { finetuneDamping: 0.5 } }]) {
      const r = await runTrace(ws.config, options);
      assert.equal(r.diagnostics.cache?.hit, false, JSON.stringify(options));
      assert.notEqual(r.diagnostics.cache?.key, base.diagnostics.cache?.key);
    }
  });

  it('misses when a dataset file changes, and recomputes a damaged entry', async () => {
    const before = await runTrace(ws.config, { test: 'all' });
    assert.equal(before.diagnostics.cache?.hit, true);
    const file = path.join(ws.dir, 'finetune_train.jsonl');
    const original = await fs.readFile(file, 'utf8');
    const lines = original.trimEnd().split('\n');
    await fs.writeFile(file, [...lines.slice(1), lines[0]].join('\n') + '\n'); // same examples, another order
    try {
      const changed = await runTrace(ws.config, { test: 'all' });
      assert.equal(changed.diagnostics.cache?.hit, false);
      assert.notEqual(changed.diagnostics.cache?.key, before.diagnostics.cache?.key);
    } finally {
      await fs.writeFile(file, original);
    }
    const entry = path.join(cacheDir, `${before.diagnostics.cache?.key}.json`);
    await fs.writeFile(entry, '{"format":"msif-ihvp-1","s":"@@not base64 of float64s"');
    const again = await runTrace(ws.config, { test: 'all' });
    assert.equal(again.diagnostics.cache?.hit, false);
    assert.deepEqual(again.scores, before.scores);
  });

  it('is off with noCache and with MSIF_CACHE=off', async () => {
    const r = await runTrace(ws.config, { test: 'all', noCache: true });
    assert.equal(r.diagnostics.cache, undefined);
    process.env['MSIF_CACHE'] = 'off';
    try {
      assert.equal(ihvpCacheDir(), undefined);
      assert.equal((await runTrace(ws.config, { test: 'all' })).diagnostics.cache, undefined);
    } finally {
      delete process.env['MSIF_CACHE'];
    }
  });
});
