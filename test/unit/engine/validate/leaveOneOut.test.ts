/**
 * The pure parts of the leave-one-out check: which examples are sampled, the correlations
 * per half, and the noise-floor rule (spread > 0.1 × median |actual change|).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { correlationsBySample, noiseFloor, NOISE_FLOOR_THRESHOLD, sampleForValidation } from '../../../../src/engine/validate/leaveOneOut';
import type { LeaveOneOutResult } from '../../../../src/engine/validate/leaveOneOut';
import type { RetrainRun } from '../../../../src/engine/validate/retrainStages';

describe('sampleForValidation', () => {
  const scores = [0.1, -5, 0.3, 4, -0.2, 0, 2, -0.05, 0.7, 1];
  it('takes ⌊N/2⌋ of largest |score|, then distinct random others, seeded', () => {
    const s = sampleForValidation(scores, 5, 7);
    assert.deepEqual(s.slice(0, 2), [
      { index: 1, sample: 'top' },
      { index: 3, sample: 'top' },
    ]);
    const random = s.slice(2);
    assert.equal(random.length, 3);
    assert.ok(random.every((r) => r.sample === 'random' && r.index !== 1 && r.index !== 3));
    assert.equal(new Set(random.map((r) => r.index)).size, 3);
    assert.deepEqual(sampleForValidation(scores, 5, 7), s, 'same seed, same sample');
    const others = [0, 1, 2, 3, 4, 5, 6].map((seed) => JSON.stringify(sampleForValidation(scores, 5, seed).slice(2)));
    assert.ok(new Set(others).size > 1, 'the seed changes the random half');
  });
  it('breaks |score| ties by index and caps N at m', () => {
    assert.deepEqual(sampleForValidation([1, -1, 1, 0.5], 2, 0)[0], { index: 0, sample: 'top' });
    const all = sampleForValidation([3, 1, 2], 10, 0);
    assert.equal(all.length, 3);
    assert.deepEqual(all[0], { index: 0, sample: 'top' });
    assert.deepEqual(all.slice(1).map((r) => r.index).sort(), [1, 2]);
  });
  it('rejects N < 1', () => {
    assert.throws(() => sampleForValidation(scores, 0, 0), RangeError);
  });
});

describe('correlationsBySample', () => {
  it('correlates each half and the whole sample separately', () => {
    // top: predicted (1, 2, 3) vs actual (2, 4, 6): r = 1; random: (1, 2, 3) vs (3, 2, 1): r = −1.
    const c = correlationsBySample(['top', 'top', 'top', 'random', 'random', 'random'], [1, 2, 3, 1, 2, 3], [2, 4, 6, 3, 2, 1]);
    assert.equal(c.top.n, 3);
    assert.ok(Math.abs(c.top.pearson - 1) < 1e-12);
    assert.ok(Math.abs(c.random.pearson + 1) < 1e-12);
    assert.equal(c.all.n, 6);
    assert.ok(c.all.pearson > -1 && c.all.pearson < 1);
    assert.ok(Number.isNaN(correlationsBySample(['top'], [1], [1]).top.pearson), 'one pair: undefined');
  });
});

describe('noiseFloor', () => {
  // testLossChange: from the base run (test loss 1), as leaveOneOut measures it.
  const run = (testLoss: number): RetrainRun => {
    const stage = { iterations: 1, evaluations: 1, initialGradientNorm: 1, maxGradientNorm: 1, gradientNorm: 0, objective: 0, converged: true, stop: 'converged' as const };
    return { testLoss, testLossChange: testLoss - 1, pretrain: stage, finetune: stage, end: { pretrain: new Float64Array(0), finetune: new Float64Array(0) } };
  };
  const result = (spread: number, top: number[], random: number[]): LeaveOneOutResult => ({
    savedTestLoss: 1,
    base: run(1),
    noise: run(1 + spread),
    rows: [...top.map((a, i) => ({ index: i, sample: 'top' as const, actual: a, run: run(1 + a) })), ...random.map((a, i) => ({ index: 10 + i, sample: 'random' as const, actual: a, run: run(1 + a) }))],
  });
  it('compares the spread with 0.1 × the median |actual change| of each half', () => {
    assert.equal(NOISE_FLOOR_THRESHOLD, 0.1);
    // medians: top 0.5, random 0.02; spread 0.01 > 0.1 × 0.02 but < 0.1 × 0.5.
    const nf = noiseFloor(result(0.01, [0.5, -0.6, 0.4], [0.02, -0.01, 0.03]));
    assert.ok(Math.abs(nf.spread - 0.01) < 1e-12);
    assert.deepEqual(nf.medianAbsActual, { all: (0.03 + 0.4) / 2, top: 0.5, random: 0.02 });
    assert.deepEqual(nf.comparable, { all: false, top: false, random: true });
  });
  it('is never comparable when the two no-removal runs agree exactly', () => {
    assert.deepEqual(noiseFloor(result(0, [1e-9], [0])).comparable, { all: false, top: false, random: false });
  });
});
