/** `msif cleanse` and `msif similarity` arguments. */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import { parseArgs } from '../../../src/cli/args';

function rejects(argv: string[], pattern: RegExp): void {
  assert.throws(
    () => parseArgs(argv),
    (e: unknown) => e instanceof MsifError && e.code === 'usage' && !e.message.includes('\n') && pattern.test(e.message),
  );
}

describe('parseArgs: cleanse and similarity', () => {
  test('cleanse with every flag', () => {
    assert.deepEqual(
      parseArgs([
        'cleanse', '--config', 'm.json', '--percent', '12.5', '--by', 'heldout', '--heldout-fraction=0.25', '--case', 'updated',
        '--random-trials', '0', '--seed', '9', '--write-filtered', 'f.jsonl', '--out', 'r.json', '--backend', 'cpu',
      ]),
      {
        kind: 'cleanse',
        config: 'm.json',
        options: { percent: 12.5, by: 'heldout', heldoutFraction: 0.25, case: 'updated', randomTrials: 0, seed: 9 },
        writeFiltered: 'f.jsonl',
        out: 'r.json',
        backend: 'cpu',
      },
    );
  });

  test('cleanse leaves unset options out', () => {
    assert.deepEqual(parseArgs(['cleanse', '--config', 'm.json', '--percent', '5', '--by', 'test']), {
      kind: 'cleanse',
      config: 'm.json',
      options: { percent: 5, by: 'test' },
    });
    assert.deepEqual(parseArgs(['cleanse', '--config', 'm.json', '--percent', '.5']), { kind: 'cleanse', config: 'm.json', options: { percent: 0.5 } });
  });

  test('cleanse rejects bad numbers and combinations', () => {
    rejects(['cleanse', '--config', 'm', '--percent', '100'], /^--percent is '100' \(expected a number greater than 0 and less than 100\)$/);
    rejects(['cleanse', '--config', 'm', '--percent', 'ten'], /^--percent is 'ten'/);
    rejects(['cleanse', '--config', 'm', '--percent', '-3'], /^--percent is '-3'/);
    rejects(['cleanse', '--config', 'm', '--percent', '5', '--heldout-fraction', '1'], /^--heldout-fraction is '1' \(expected a number greater than 0 and less than 1\)$/);
    rejects(['cleanse', '--config', 'm', '--percent', '5', '--by', 'test', '--heldout-fraction', '0.1'], /goes with --by heldout/);
    rejects(['cleanse', '--config', 'm', '--percent', '5', '--random-trials', '1.5'], /^--random-trials is '1.5' \(expected an integer ≥ 0\)$/);
    rejects(['cleanse', '--config', 'm', '--percent', '5', '--test', '3'], /^unknown flag '--test' for 'msif cleanse'/);
    rejects(['cleanse', '--config', 'm'], /^'msif cleanse' needs --percent/);
  });

  test('similarity', () => {
    assert.deepEqual(parseArgs(['similarity', '--config', 'a/msif.json', '--other', 'b/msif.json']), {
      kind: 'similarity',
      config: 'a/msif.json',
      other: 'b/msif.json',
      options: {},
    });
    assert.deepEqual(parseArgs(['similarity', '--config', 'a', '--other', 'b', '--test', 'misclassified', '--case', 'fixed', '--out', 'r.json']), {
      kind: 'similarity',
      config: 'a',
      other: 'b',
      options: { test: 'misclassified', case: 'fixed' },
      out: 'r.json',
    });
    rejects(['similarity', '--config', 'a'], /^'msif similarity' needs --other/);
    rejects(['similarity', '--config', 'a', '--other', 'b', '--percent', '3'], /^unknown flag '--percent' for 'msif similarity'/);
  });
});
