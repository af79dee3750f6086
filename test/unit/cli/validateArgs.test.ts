/** `msif validate`'s flags: every one parsed into the job's options, bad values rejected with the flag named. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../../src/cli/args';
import { MsifError } from '../../../src/common/errors';

function rejects(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseArgs(argv),
    (e: unknown) => e instanceof MsifError && e.code === 'usage' && message.test(e.message),
  );
}

describe('msif validate arguments', () => {
  test('every flag', () => {
    const argv = ['validate', '--config', 'w/msif.json', '--sample', '12', '--test', 'misclassified', '--case', 'updated', '--seed', '5'];
    argv.push('--retrain', 'plain', '--tolerance', '1e-7', '--max-iterations', '50', '--out', 'r.json', '--backend', 'wasm');
    assert.deepEqual(parseArgs(argv), {
      kind: 'validate',
      config: 'w/msif.json',
      options: { sample: 12, test: 'misclassified', case: 'updated', seed: 5, retrain: { objective: 'plain', gradientTolerance: 1e-7, maxIterations: 50 } },
      out: 'r.json',
      backend: 'wasm',
    });
  });

  test('bad values name the flag and what was expected', () => {
    const base = ['validate', '--config', 'x', '--sample', '4'];
    rejects([...base, '--retrain', 'exact'], /^--retrain is 'exact' \(expected one of response, proximal, plain\)$/);
    rejects([...base, '--tolerance', '0'], /^--tolerance is '0'/);
    rejects([...base, '--tolerance', 'small'], /^--tolerance is 'small'/);
    rejects([...base, '--max-iterations', '0'], /^--max-iterations is '0' \(expected an integer ≥ 1\)$/);
    rejects([...base, '--seed', '-1'], /--seed/);
    rejects([...base, '--top', '3'], /^unknown flag '--top' for 'msif validate'/);
  });
});
