import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  averageRanks,
  logDensityHistogram,
  orderDescending,
  pearson,
  ranksDescending,
  spearman,
  topIndices,
  topKOverlap,
} from '../../../src/host/analysis/scoreStats';
import { rankings } from '../../../webview/render/ranking';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)), `${a} vs ${b}`);

describe('ranks and top lists', () => {
  const scores = [0.5, -1, 2, 0, -1, 0.5];
  test('orderDescending is stable on ties', () => {
    assert.deepEqual(orderDescending(scores), [2, 0, 5, 3, 1, 4]);
  });
  test('ranksDescending: 1 = largest, ties in dataset order', () => {
    assert.deepEqual([...ranksDescending(scores)], [2, 5, 1, 4, 6, 3]);
  });
  test('topIndices: harmful positive by descending score, helpful negative by ascending (ties reversed, like msif trace)', () => {
    assert.deepEqual(topIndices(scores, 10, 'harmful'), [2, 0, 5]);
    assert.deepEqual(topIndices(scores, 2, 'harmful'), [2, 0]);
    assert.deepEqual(topIndices(scores, 10, 'helpful'), [4, 1]);
  });
  test('the webview ranking matches the host top lists', () => {
    const random = Array.from({ length: 500 }, (_, i) => Math.round(Math.sin(i * 12.9898) * 43758.5453) % 7);
    const r = rankings(random);
    assert.deepEqual(r.harmful, topIndices(random, 1000, 'harmful'));
    assert.deepEqual(r.helpful, topIndices(random, 1000, 'helpful'));
  });
});

describe('logDensityHistogram', () => {
  test('counts and log10 densities: count / (n · width)', () => {
    // Range [0, 4], 4 bins of width 1: bins [0,1) [1,2) [2,3) [3,4].
    const h = logDensityHistogram([0, 0.5, 1, 3, 4], 4);
    assert.deepEqual(h.counts, [2, 1, 0, 2]);
    assert.equal(h.binWidth, 1);
    assert.equal(h.total, 5);
    close(h.logDensity[0] as number, Math.log10(2 / 5));
    assert.equal(h.logDensity[2], null);
    // The densities integrate to 1.
    close(h.counts.reduce((s, c) => s + c / (h.total * h.binWidth), 0) * h.binWidth, 1);
  });
  test('non-finite scores are left out; equal scores give one bin; none give an empty histogram', () => {
    const h = logDensityHistogram([1, NaN, Infinity, 1], 10);
    assert.equal(h.total, 2);
    assert.deepEqual(h.counts, [2]);
    assert.equal(h.min, 0.5);
    assert.equal(logDensityHistogram([], 5).counts.length, 0);
  });
});

describe('Spearman rank correlation', () => {
  test('averageRanks gives ties their mean rank', () => {
    assert.deepEqual([...averageRanks([10, 20, 20, 5])], [2, 3.5, 3.5, 1]);
  });
  test('equals 1 − 6Σd²/(n(n²−1)) without ties', () => {
    const a = [1, 2, 3, 4, 5];
    const b = [2, 1, 4, 3, 5];
    // d = [1, -1, 1, -1, 0]; Σd² = 4; 1 − 24/120 = 0.8
    close(spearman(a, b), 0.8);
  });
  test('is invariant to monotone transforms and −1 for reversed order', () => {
    const a = [0.3, -2, 5, 1e-6, 40];
    close(spearman(a, a.map((v) => Math.exp(v / 10) * 3 - 1)), 1);
    close(spearman(a, a.map((v) => -v)), -1);
  });
  test('with ties it is Pearson on average ranks', () => {
    const a = [1, 1, 2, 3];
    const b = [1, 2, 2, 3];
    close(spearman(a, b), pearson([1.5, 1.5, 3, 4], [1, 2.5, 2.5, 4]));
  });
  test('NaN for a constant vector; lengths must match', () => {
    assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
    assert.throws(() => spearman([1], [1, 2]), RangeError);
  });
});

describe('topKOverlap', () => {
  test('counts shared top-k harmful and helpful examples', () => {
    const a = [5, 4, 3, -1, -2, -3];
    const b = [5, 1, 4, -3, -2, 0];
    // harmful top-2: a {0,1}, b {0,2} → 1; helpful top-2: a {5,4}, b {3,4} → 1
    assert.deepEqual(topKOverlap(a, b, 2), { harmful: 1, helpful: 1 });
    assert.deepEqual(topKOverlap(a, a, 3), { harmful: 3, helpful: 3 });
  });
});
