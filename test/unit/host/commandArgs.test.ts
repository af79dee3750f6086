import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandArgs } from '../../../src/host/commandArgs';

test('parseCommandArgs reads automation objects, Uris and tree nodes', () => {
  assert.deepEqual(parseCommandArgs(undefined), {});
  assert.deepEqual(parseCommandArgs({ config: '/w/msif.json', test: '3' }), { config: '/w/msif.json', test: '3' });
  assert.deepEqual(parseCommandArgs({ config: 'a/msif.json', test: 3, case: 'updated', rethrow: true }), {
    config: 'a/msif.json',
    test: '3',
    case: 'updated',
    rethrow: true,
  });
  assert.deepEqual(parseCommandArgs({ test: -1, case: 'other', config: '' }), {});
  assert.deepEqual(parseCommandArgs({ scheme: 'file', fsPath: '/w/msif.json', path: '/w/msif.json' }), { file: '/w/msif.json' });
  assert.deepEqual(parseCommandArgs({ type: 'testPoint', configPath: '/w/msif.json', point: { index: 4 } }), { config: '/w/msif.json', test: '4' });
  assert.deepEqual(parseCommandArgs({ type: 'config', configPath: '/w/msif.json' }), { config: '/w/msif.json' });
});
