/** The progress throttle: new phases at once, updates within a phase at most once per interval. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobProgress } from '../../../src/protocol/progress';
import { throttleProgress } from '../../../src/worker/progressThrottle';

const at = (phase: string, message: string): JobProgress => ({ phase, message });

test('the first update and each new phase go out at once; the rest wait for the interval', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const sent: string[] = [];
  const throttle = throttleProgress((p) => sent.push(p.message), 100);
  throttle.push(at('load', 'a'));
  throttle.push(at('load', 'b'));
  throttle.push(at('load', 'c'));
  assert.deepEqual(sent, ['a'], 'b and c are held back');
  throttle.push(at('score', 'd'));
  assert.deepEqual(sent, ['a', 'd'], 'a new phase is not held back, and replaces what was');
  throttle.push(at('score', 'e'));
  throttle.push(at('score', 'f'));
  t.mock.timers.tick(99);
  assert.deepEqual(sent, ['a', 'd']);
  t.mock.timers.tick(1);
  assert.deepEqual(sent, ['a', 'd', 'f'], 'the latest held update goes out when the interval ends');
  t.mock.timers.tick(500);
  assert.deepEqual(sent, ['a', 'd', 'f'], 'nothing is sent twice');
  throttle.push(at('score', 'g'));
  assert.deepEqual(sent, ['a', 'd', 'f', 'g'], 'after a quiet interval an update goes out at once');
});

test('dispose drops what is held back', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const sent: string[] = [];
  const throttle = throttleProgress((p) => sent.push(p.message), 100);
  throttle.push(at('load', 'a'));
  throttle.push(at('load', 'b'));
  throttle.dispose();
  t.mock.timers.tick(1000);
  assert.deepEqual(sent, ['a']);
});
