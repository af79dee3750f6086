import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSingleSelection, parseHostSettings, traceRequestOptions } from '../../../src/host/traceSettings';

const raw = (values: Record<string, unknown>) => (key: string) => values[key];

describe('parseHostSettings', () => {
  test('defaults', () => {
    const { settings, problems } = parseHostSettings(raw({}), true);
    assert.deepEqual(settings, { backend: 'auto', topK: 10, overrides: {} });
    assert.deepEqual(problems, []);
  });
  test('valid values, with null overrides meaning msif.json', () => {
    const { settings } = parseHostSettings(
      raw({ backend: 'wasm', nodePath: ' /usr/bin/node ', topK: 25, pretrainDamping: 0.1, finetuneDamping: null, cgIterations: 50 }),
      true,
    );
    assert.deepEqual(settings, { backend: 'wasm', nodePath: '/usr/bin/node', topK: 25, overrides: { pretrainDamping: 0.1, cgIterations: 50 } });
  });
  test('nodePath is ignored in an untrusted workspace', () => {
    assert.equal(parseHostSettings(raw({ nodePath: '/evil/node' }), false).settings.nodePath, undefined);
  });
  test('invalid values fall back to defaults and are reported', () => {
    const { settings, problems } = parseHostSettings(raw({ backend: 'gpu', topK: 0, pretrainDamping: -1, cgIterations: 2.5 }), true);
    assert.deepEqual(settings, { backend: 'auto', topK: 10, overrides: {} });
    assert.equal(problems.length, 4);
  });
});

describe('traceRequestOptions', () => {
  const { settings } = parseHostSettings(raw({ topK: 7 }), true);
  test('carries the selection, the case and top; no overrides field when none are set', () => {
    assert.deepEqual(traceRequestOptions({ test: '3', case: 'updated' }, settings), { test: '3', case: 'updated', top: 7 });
    assert.deepEqual(traceRequestOptions({ test: 'all' }, settings), { test: 'all', top: 7 });
  });
  test('carries the overrides that are set', () => {
    const s = parseHostSettings(raw({ finetuneDamping: 0.001 }), true).settings;
    assert.deepEqual(traceRequestOptions({ test: '1' }, s), { test: '1', top: 10, overrides: { finetuneDamping: 0.001 } });
  });
});

test('isSingleSelection', () => {
  assert.equal(isSingleSelection('3'), true);
  assert.equal(isSingleSelection('test-00003'), true);
  assert.equal(isSingleSelection('all'), false);
  assert.equal(isSingleSelection('misclassified'), false);
});
