/**
 * Pearson's r and Spearman's ρ against values worked out by hand, ties included.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { averageRanks, median, pearson, spearman } from '../../../src/common/correlation';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('pearson', () => {
  it('matches a hand computation', () => {
    // a − ā = (−1.5, −0.5, 0.5, 1.5), b − b̄ = (−2, 0, −1, 3) (b̄ = 3):
    // Σ = 3 + 0 − 0.5 + 4.5 = 7, Σa² = 5, Σb² = 14, r = 7/√70.
    close(pearson([1, 2, 3, 4], [1, 3, 2, 6]), 7 / Math.sqrt(70));
  });
  it('is ±1 for exact linear relations and invariant to scale and shift', () => {
    close(pearson([1, 2, 3], [10, 20, 30]), 1);
    close(pearson([1, 2, 3], [5, 3, 1]), -1);
    const a = [0.3, -1.2, 4.5, 2.2, -0.7];
    const b = [1.1, 0.4, -2.0, 3.3, 0.9];
    // Storing 1e-3·a + 3 rounds each value by ≤ 2⁻⁵³·4, i.e. ~5e-13 of the spread 1e-3·|a|.
    close(pearson(a.map((v) => 1e-3 * v + 3), b), pearson(a, b), 1e-10);
  });
  it('is NaN when undefined (fewer than two pairs, a constant vector)', () => {
    assert.ok(Number.isNaN(pearson([1], [2])));
    assert.ok(Number.isNaN(pearson([], [])));
    assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  });
  it('rejects vectors of different lengths', () => {
    assert.throws(() => pearson([1, 2], [1, 2, 3]), RangeError);
  });
});

describe('spearman', () => {
  it('gives ties the mean of their ranks', () => {
    assert.deepEqual(Array.from(averageRanks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
    assert.deepEqual(Array.from(averageRanks([7, 7, 7])), [2, 2, 2]);
  });
  it('matches a hand computation with ties', () => {
    // ranks(a) = (1, 2.5, 2.5, 4), ranks(b) = (1, 2, 4, 3); both have mean 2.5.
    // deviations (−1.5, 0, 0, 1.5) and (−1.5, −0.5, 1.5, 0.5):
    // Σ = 2.25 + 0.75 = 3, Σa² = 4.5, Σb² = 5, ρ = 3/√22.5.
    close(spearman([1, 2, 2, 3], [10, 20, 40, 30]), 3 / Math.sqrt(22.5));
  });
  it('is 1 for any monotone relation', () => {
    close(spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 1e6]), 1);
    close(spearman([1, 2, 3, 4, 5], [-1, -8, -27, -64, -1e6]), -1);
  });
});

describe('median', () => {
  it('takes the middle value or the mean of the two middle values', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
});
