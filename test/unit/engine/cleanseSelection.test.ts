/** Data cleansing's selections (paper §4.2): removal counts, top harmful, seeded random removals, the held-out split. */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import { heldoutSplit, meanSd, predictedLossChange, randomRemoval, removalCount, topHarmful, trialSeed } from '../../../src/engine/cleanse/selection';

describe('removalCount', () => {
  test('rounds percent·m/100 to the nearest integer, halves up', () => {
    assert.equal(removalCount(100, 10), 10);
    assert.equal(removalCount(300, 20), 60);
    // 12.5·40/100 is 4.999… in floating point; it is 5.
    assert.equal(removalCount(40, 12.5), 5);
    assert.equal(removalCount(100, 0.5), 1); // 0.5 example rounds up
    assert.equal(removalCount(100, 1.49), 1);
    assert.equal(removalCount(100, 1.5), 2);
    assert.equal(removalCount(7, 50), 4); // 3.5 → 4
  });

  test('keeps at least one example', () => {
    assert.equal(removalCount(10, 99.9), 9); // 9.99 rounds to 10, capped at m − 1
  });

  test('rejects percentages outside (0, 100) and ones that remove nothing', () => {
    for (const p of [0, 100, -1, 150, NaN, Infinity]) {
      assert.throws(() => removalCount(100, p), (e: unknown) => e instanceof MsifError && e.code === 'usage' && /--percent/.test(e.message));
    }
    assert.throws(() => removalCount(100, 0.4), /is no example/);
  });
});

describe('topHarmful', () => {
  test('the largest positive scores, largest first; ties keep dataset order', () => {
    const scores = [0.5, -3, 2, 0.5, 0, 2, 7, 0.5];
    assert.deepEqual(topHarmful(scores, 3), [6, 2, 5]);
    assert.deepEqual(topHarmful(scores, 5), [6, 2, 5, 0, 3]);
  });

  test('never takes a zero or negative score: fewer than k then', () => {
    assert.deepEqual(topHarmful([0, -1, 3, 0, 1], 4), [2, 4]);
    assert.deepEqual(topHarmful([-1, -2], 1), []);
    assert.deepEqual(topHarmful(Float64Array.from([1, 2]), 0), []);
  });
});

describe('randomRemoval', () => {
  test('k distinct ascending indices in range, the same for the same seed', () => {
    const a = randomRemoval(50, 12, 7);
    assert.equal(a.length, 12);
    assert.equal(new Set(a).size, 12);
    assert.ok(a.every((i, k) => Number.isInteger(i) && i >= 0 && i < 50 && (k === 0 || i > (a[k - 1] as number))));
    assert.deepEqual(randomRemoval(50, 12, 7), a);
    assert.notDeepEqual(randomRemoval(50, 12, 8), a);
  });

  test('is uniform: over 4000 seeds each index is drawn k/m of the time (χ² test)', () => {
    const m = 20;
    const k = 5;
    const trials = 4000;
    const counts = new Array<number>(m).fill(0);
    for (let t = 0; t < trials; t++) for (const i of randomRemoval(m, k, trialSeed(11, t))) counts[i] = (counts[i] as number) + 1;
    const expected = (trials * k) / m;
    const chi2 = counts.reduce((s, c) => s + ((c - expected) * (c - expected)) / expected, 0);
    // 19 degrees of freedom: P(χ² > 43.8) = 0.001.
    assert.ok(chi2 < 43.8, `χ² = ${chi2.toFixed(1)}, counts ${counts.join(' ')}`);
  });

  test('trial seeds differ between trials and between run seeds', () => {
    const seeds = new Set<number>();
    for (let s = 0; s < 20; s++) for (let t = 0; t < 50; t++) seeds.add(trialSeed(s, t));
    assert.equal(seeds.size, 1000);
  });
});

describe('heldoutSplit', () => {
  test('disjoint, covering, ascending, of round(f·n) held-out indices, seeded', () => {
    const { heldout, train } = heldoutSplit(103, 0.2, 5);
    assert.equal(heldout.length, 21); // round(20.6)
    assert.equal(train.length, 82);
    const all = [...heldout, ...train].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 103 }, (_, i) => i));
    assert.equal(new Set(heldout.concat(train)).size, 103);
    for (const part of [heldout, train]) assert.ok(part.every((v, k) => k === 0 || v > (part[k - 1] as number)));
    assert.deepEqual(heldoutSplit(103, 0.2, 5), { heldout, train });
    assert.notDeepEqual(heldoutSplit(103, 0.2, 6).heldout, heldout);
  });

  test('is not the random removal of the same seed', () => {
    assert.notDeepEqual(heldoutSplit(100, 0.1, 3).heldout, randomRemoval(100, 10, trialSeed(3, 0)));
  });

  test('neither part is empty', () => {
    assert.deepEqual(heldoutSplit(2, 0.01, 0).heldout.length, 1);
    assert.deepEqual(heldoutSplit(2, 0.99, 0).train.length, 1);
    assert.throws(() => heldoutSplit(1, 0.5, 0), /too few/);
    assert.throws(() => heldoutSplit(10, 1, 0), /--heldout-fraction/);
    assert.throws(() => heldoutSplit(10, 0, 0), /--heldout-fraction/);
  });
});

describe('summaries', () => {
  test('meanSd: mean and the n − 1 standard deviation', () => {
    // mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; sd = √(5/3).
    const r = meanSd([1, 2, 3, 4]);
    assert.equal(r.mean, 2.5);
    assert.ok(Math.abs(r.sd - Math.sqrt(5 / 3)) < 1e-15);
    assert.equal(r.n, 4);
    assert.deepEqual(meanSd([3]), { mean: 3, sd: 0, n: 1 });
    assert.ok(Number.isNaN(meanSd([]).mean));
  });

  test('predictedLossChange = −Σ_removed I / (m·n)', () => {
    // Removing examples 1 and 3 of m = 4 with scores 2 and −0.5, scoring set of n = 5: −1.5/20.
    assert.equal(predictedLossChange([10, 2, 7, -0.5], [1, 3], 4, 5), -1.5 / 20);
    assert.equal(Math.abs(predictedLossChange([1], [], 1, 1)), 0);
  });
});
