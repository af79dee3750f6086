/** Progress on stderr: an updating line on a terminal, plain lines otherwise. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgressDisplay, formatProgress } from '../../../src/cli/progressDisplay';
import type { DisplayStream } from '../../../src/cli/progressDisplay';

/** A stream that records what is written. */
function recorder(isTTY: boolean, columns = 80): DisplayStream & { text: string } {
  return {
    isTTY,
    columns,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

test('formatProgress shows the percentage where the fraction is known', () => {
  assert.equal(formatProgress({ phase: 'pretrain-ihvp', message: 'CG 12/100', fraction: 0.416 }), ' 42% pretrain-ihvp: CG 12/100');
  assert.equal(formatProgress({ phase: 'load', message: 'reading models' }), 'load: reading models');
});

test('not a terminal: one plain line per shown update, log lines as they come', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const stream = recorder(false);
  const display = createProgressDisplay(stream);
  display.update({ phase: 'load', message: 'models' });
  display.update({ phase: 'load', message: 'datasets' });
  display.log('note');
  display.update({ phase: 'score', message: 'batch 1' });
  display.dispose();
  assert.equal(stream.text, 'load: models\nnote\nscore: batch 1\n');
});

test('a terminal: one line rewritten in place, cut to the width, cleared at the end', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const stream = recorder(true, 13); // 12 characters, leaving the last column free
  const display = createProgressDisplay(stream);
  display.update({ phase: 'load', message: 'models and more' });
  display.log('note');
  display.update({ phase: 'score', message: 'x' });
  display.dispose();
  const clear = '\r\x1b[K';
  assert.equal(stream.text, `${clear}load: models${clear}note\n${clear}load: models${clear}score: x${clear}`);
});
