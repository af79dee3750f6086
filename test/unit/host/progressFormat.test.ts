import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { estimateSecondsLeft, formatEta, ProgressTracker } from '../../../src/host/progress/progressFormat';

describe('estimateSecondsLeft', () => {
  test('extrapolates linearly: t·(1−f)/f', () => {
    // 10 s for 25 %: 30 s left.
    assert.equal(estimateSecondsLeft(10_000, 0.25), 30);
    assert.equal(estimateSecondsLeft(10_000, 1), 0);
  });
  test('gives no estimate too early or for nonsense', () => {
    assert.equal(estimateSecondsLeft(1000, 0.5), undefined);
    assert.equal(estimateSecondsLeft(10_000, 0.01), undefined);
    assert.equal(estimateSecondsLeft(10_000, NaN), undefined);
    assert.equal(estimateSecondsLeft(10_000, 1.5), undefined);
  });
});

describe('formatEta', () => {
  test('seconds, minutes and hours', () => {
    assert.equal(formatEta(0.4), 'ETA <1 s');
    assert.equal(formatEta(45.4), 'ETA 45 s');
    assert.equal(formatEta(59.6), 'ETA 1:00');
    assert.equal(formatEta(125), 'ETA 2:05');
    assert.equal(formatEta(3723), 'ETA 1:02:03');
  });
});

describe('ProgressTracker', () => {
  test('increments add up to the fraction done, never go backwards, never pass 100', () => {
    const t = new ProgressTracker(0);
    const a = t.update({ phase: 'load', message: 'loading', fraction: 0.1 }, 500);
    assert.equal(a.increment, 10);
    assert.equal(a.message, 'loading · 10%');
    const b = t.update({ phase: 'cg', message: 'CG 5/100', fraction: 0.05 }, 1000);
    assert.equal(b.increment, undefined);
    assert.equal(b.message, 'CG 5/100 · 10%');
    const c = t.update({ phase: 'cg', message: 'CG 50/100', fraction: 0.5 }, 10_000);
    assert.equal(c.increment, 40);
    assert.equal(c.message, 'CG 50/100 · 50% · ETA 10 s');
    const d = t.update({ phase: 'score', message: 'done', fraction: 1.2 }, 12_000);
    assert.equal(d.increment, 50);
    const total = [a, b, c, d].reduce((s, u) => s + (u.increment ?? 0), 0);
    assert.equal(total, 100);
  });
  test('without a fraction only the message is shown', () => {
    assert.deepEqual(new ProgressTracker(0, 'Trace').update({ phase: 'x', message: 'reading' }, 1), { message: 'Trace: reading' });
  });
});
