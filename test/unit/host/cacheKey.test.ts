import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { canonicalJson, sha1, traceCacheKey } from '../../../src/host/cache/cacheKey';
import type { TraceKeyInputs } from '../../../src/host/cache/cacheKey';
import { FingerprintCache, modelWeightFiles } from '../../../src/host/cache/fileFingerprint';

const base: TraceKeyInputs = {
  configHash: sha1('{}'),
  files: [
    { path: '/w/a.jsonl', size: 10, mtimeMs: 1 },
    { path: '/w/model.json', size: 5, mtimeMs: 2, sha1: 'abc' },
  ],
  case: 'fixed',
  test: '3',
  top: 10,
  overrides: {},
};

describe('canonicalJson', () => {
  test('sorts keys at every depth and drops undefined fields', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } }), '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
  });
  test('writes non-finite numbers as strings (JSON would write null)', () => {
    assert.equal(canonicalJson([NaN, Infinity, 1]), '["NaN","Infinity",1]');
  });
});

describe('traceCacheKey', () => {
  test('does not depend on the order of files or fields', () => {
    const shuffled: TraceKeyInputs = {
      overrides: {},
      top: 10,
      test: '3',
      case: 'fixed',
      files: [...base.files].reverse(),
      configHash: base.configHash,
    };
    assert.equal(traceCacheKey(base), traceCacheKey(shuffled));
  });

  test('an override set to undefined is the same as no override', () => {
    assert.equal(traceCacheKey(base), traceCacheKey({ ...base, overrides: { pretrainDamping: undefined } }));
  });

  test('changes with each input that changes the result', () => {
    const key = traceCacheKey(base);
    const variants: TraceKeyInputs[] = [
      { ...base, configHash: sha1('{ }') },
      { ...base, files: [{ ...base.files[0]!, mtimeMs: 3 }, base.files[1]!] },
      { ...base, files: [base.files[0]!, { ...base.files[1]!, sha1: 'abd' }] },
      { ...base, case: 'updated' },
      { ...base, test: '4' },
      { ...base, test: 'misclassified' },
      { ...base, top: 11 },
      { ...base, overrides: { pretrainDamping: 0.1 } },
      { ...base, overrides: { cgIterations: 10 } },
    ];
    const keys = new Set(variants.map(traceCacheKey));
    assert.equal(keys.size, variants.length);
    assert.ok(!keys.has(key));
  });
});

describe('FingerprintCache', () => {
  test('hashes small files, skips large ones, marks missing ones, memoises by size and mtime', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-fp-'));
    try {
      const small = path.join(dir, 'model.json');
      const large = path.join(dir, 'big.jsonl');
      await fs.writeFile(small, 'hello');
      await fs.writeFile(large, 'x'.repeat(100));
      const cache = new FingerprintCache(50);
      const [a, b, c] = await cache.fingerprintAll([small, large, path.join(dir, 'nope')]);
      assert.equal(a?.sha1, sha1('hello'));
      assert.equal(a?.size, 5);
      assert.equal(b?.sha1, undefined);
      assert.equal(b?.size, 100);
      assert.equal(c?.size, -1);
      // Same size, new mtime: a new hash.
      await fs.writeFile(small, 'world');
      const later = new Date(Date.now() + 5000);
      await fs.utimes(small, later, later);
      assert.equal((await cache.fingerprint(small)).sha1, sha1('world'));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('modelWeightFiles lists the weight files of a model.json, relative to it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-fp-'));
    try {
      const model = path.join(dir, 'm', 'model.json');
      await fs.mkdir(path.dirname(model));
      await fs.writeFile(model, JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['w1.bin', 'sub/w2.bin'] }, { paths: [3] }] }));
      assert.deepEqual(await modelWeightFiles(model), [path.join(dir, 'm', 'w1.bin'), path.join(dir, 'm', 'sub', 'w2.bin')]);
      assert.deepEqual(await modelWeightFiles(path.join(dir, 'missing.json')), []);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
