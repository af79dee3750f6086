/** `msif validate`'s flags: every one parsed into the job's options, bad values rejected with the flag named. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, validateArgv } from '../../../src/cli/args';
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

  test('--jobs, and the helpers\' command line: the same check without --jobs and --out', () => {
    const argv = ['validate', '--config', 'w/msif.json', '--sample', '12', '--test', '3', '--case', 'fixed', '--seed', '0', '--retrain', 'response'];
    argv.push('--start', 'saved', '--tolerance', '2.5e-8', '--max-iterations', '7', '--jobs', '4', '--out', 'r.json', '--backend', 'native');
    const command = parseArgs(argv);
    assert.equal(command.kind === 'validate' && command.jobs, 4);
    if (command.kind !== 'validate') return;
    const helper = parseArgs(validateArgv(command));
    const { jobs: _jobs, out: _out, ...same } = command;
    assert.deepEqual(helper, same);
    // Only what was given: defaults stay defaults.
    assert.deepEqual(validateArgv({ kind: 'validate', config: 'c.json', options: { sample: 2 } }), ['validate', '--config', 'c.json', '--sample', '2']);
    rejects(['validate', '--config', 'x', '--sample', '4', '--jobs', '0'], /^--jobs is '0' \(expected an integer ≥ 1\)$/);
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
