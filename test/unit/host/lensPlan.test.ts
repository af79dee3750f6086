import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordRanges } from '../../../src/common/lineRanges';
import {
  formatScore,
  influenceLensTitle,
  mergeWindows,
  recordsForLenses,
  windowsMovedFar,
} from '../../../src/host/codelens/lensPlan';

describe('recordsForLenses', () => {
  // Lines 1..10; lines 3 and 7 blank → 8 records.
  const text = Array.from({ length: 10 }, (_, i) => (i === 2 || i === 6 ? '' : `{"x":${i},"y":0}`)).join('\n');
  const ranges = recordRanges(text);

  test('without visible windows: the first `cap` records', () => {
    assert.deepEqual(recordsForLenses(ranges, [], 0, 3).map((r) => r.line), [1, 2, 4]);
    assert.equal(recordsForLenses(ranges, [], 0, 100).length, 8);
  });

  test('records within the windows plus margin (window lines 0-based, record lines 1-based)', () => {
    // Editor lines 3..5 → file lines 4..6 → records on lines 4, 5, 6.
    assert.deepEqual(recordsForLenses(ranges, [{ start: 3, end: 5 }], 0).map((r) => r.index), [2, 3, 4]);
    // With margin 1: lines 3..7 → 4, 5, 6 (3 and 7 are blank).
    assert.deepEqual(recordsForLenses(ranges, [{ start: 3, end: 5 }], 1).map((r) => r.line), [4, 5, 6]);
    // Two overlapping windows give no repeats.
    assert.deepEqual(
      recordsForLenses(ranges, [{ start: 0, end: 1 }, { start: 1, end: 3 }], 0).map((r) => r.line),
      [1, 2, 4],
    );
  });

  test('scales to 100,000 records: only the window is returned', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => ({ index: i, line: i + 1, start: 0, end: 1 }));
    const t0 = performance.now();
    const out = recordsForLenses(big, [{ start: 50_000, end: 50_040 }], 100);
    assert.equal(out.length, 241);
    assert.equal(out[0]?.line, 49_901);
    assert.ok(performance.now() - t0 < 50);
  });
});

describe('windows', () => {
  test('mergeWindows merges overlapping and touching windows', () => {
    assert.deepEqual(mergeWindows([{ start: 10, end: 20 }, { start: 0, end: 5 }, { start: 6, end: 8 }, { start: 15, end: 30 }]), [
      { start: 0, end: 8 },
      { start: 10, end: 30 },
    ]);
  });
  test('windowsMovedFar: small scrolls within half the margin do not refresh', () => {
    const prev = [{ start: 100, end: 140 }];
    assert.equal(windowsMovedFar(prev, [{ start: 120, end: 160 }], 100), false);
    assert.equal(windowsMovedFar(prev, [{ start: 300, end: 340 }], 100), true);
    assert.equal(windowsMovedFar([], [{ start: 0, end: 10 }], 100), true);
  });
});

describe('lens titles', () => {
  test('Influence <3 significant digits> · rank r/m', () => {
    assert.equal(influenceLensTitle(0.0123456, 5, 1000), 'Influence 0.0123 · rank 5/1000');
    assert.equal(influenceLensTitle(12877.576171875, 1, 2000), 'Influence 1.29e+4 · rank 1/2000');
    assert.equal(influenceLensTitle(-3.2e-7, 2000, 2000), 'Influence -3.20e-7 · rank 2000/2000');
    assert.equal(formatScore(0), '0.00');
  });
});
