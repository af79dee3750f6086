/** The `msif` argument parser: commands, flag forms, and one-line usage errors. */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import { parseArgs } from '../../../src/cli/args';

/** Asserts that `argv` is a usage error whose one-line message matches `pattern`. */
function rejects(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseArgs(argv),
    (e: unknown) => {
      assert.ok(e instanceof MsifError, String(e));
      assert.equal(e.code, 'usage');
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('parseArgs', () => {
  test('trace with every flag, in both --flag value and --flag=value forms', () => {
    assert.deepEqual(
      parseArgs(['trace', '--config', 'ws/msif.json', '--test=misclassified', '--case', 'updated', '--top', '5', '--out=r.json', '--backend', 'wasm']),
      {
        kind: 'trace',
        config: 'ws/msif.json',
        options: { test: 'misclassified', case: 'updated', top: 5 },
        out: 'r.json',
        backend: 'wasm',
      },
    );
  });

  test('trace leaves unset options out', () => {
    assert.deepEqual(parseArgs(['trace', '--config', 'msif.json', '--test', '3']), {
      kind: 'trace',
      config: 'msif.json',
      options: { test: '3' },
    });
  });

  test('train and validate', () => {
    assert.deepEqual(parseArgs(['train', '--config', 'msif.json']), { kind: 'train', config: 'msif.json' });
    assert.deepEqual(parseArgs(['validate', '--config', 'msif.json', '--sample', '20', '--backend', 'cpu']), {
      kind: 'validate',
      config: 'msif.json',
      options: { sample: 20 },
      backend: 'cpu',
    });
  });

  test('--help and --version win wherever they stand', () => {
    assert.deepEqual(parseArgs(['--help']), { kind: 'help' });
    assert.deepEqual(parseArgs(['trace', '--bogus', '-h']), { kind: 'help' });
    assert.deepEqual(parseArgs(['help']), { kind: 'help' });
    assert.deepEqual(parseArgs(['--version']), { kind: 'version' });
  });

  test('a missing or unknown command', () => {
    rejects([], /^missing command \(expected trace, train, validate, cleanse or similarity\)$/);
    rejects(['tarce', '--config', 'x'], /^unknown command 'tarce'/);
  });

  test('an unknown flag names the flag and the command', () => {
    rejects(['trace', '--config', 'x', '--test', '0', '--topk', '3'], /^unknown flag '--topk' for 'msif trace' \(expected one of --config, --test,/);
    rejects(['train', '--config', 'x', '--top', '3'], /^unknown flag '--top' for 'msif train'/);
  });

  test('a flag without its value', () => {
    rejects(['trace', '--test', '0', '--config'], /^--config needs a value/);
    rejects(['trace', '--config', '--test', '0'], /^--config needs a value/);
    rejects(['trace', '--config=', '--test', '0'], /^--config needs a value/);
  });

  test('bad numbers', () => {
    rejects(['trace', '--config', 'x', '--test', '0', '--top', 'ten'], /^--top is 'ten' \(expected an integer ≥ 0\)$/);
    rejects(['trace', '--config', 'x', '--test', '0', '--top', '-1'], /^--top is '-1'/);
    rejects(['trace', '--config', 'x', '--test', '0', '--top', '2.5'], /^--top is '2.5'/);
    rejects(['validate', '--config', 'x', '--sample', '0'], /^--sample is '0' \(expected an integer ≥ 1\)$/);
  });

  test('values outside their choices', () => {
    rejects(['trace', '--config', 'x', '--test', '0', '--case', 'frozen'], /^--case is 'frozen' \(expected one of fixed, updated\)$/);
    rejects(['train', '--config', 'x', '--backend', 'gpu'], /^--backend is 'gpu' \(expected one of auto, tensorflow, native, wasm, cpu\)$/);
  });

  test('missing required flags', () => {
    rejects(['trace', '--test', '0'], /^'msif trace' needs --config/);
    rejects(['train'], /^'msif train' needs --config/);
    rejects(['trace', '--config', 'x'], /^'msif trace' needs --test/);
    rejects(['validate', '--config', 'x'], /^'msif validate' needs --sample/);
  });

  test('stray arguments and repeated flags', () => {
    rejects(['trace', 'msif.json'], /^unexpected argument 'msif.json'/);
    rejects(['train', '--config', 'a', '--config', 'b'], /^--config is given twice/);
  });
});
