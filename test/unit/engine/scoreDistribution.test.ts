/** Score-distribution statistics for `msif similarity` (paper §4.3–4.4), against values worked out by hand. */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commonLogDensityHistograms, distributionStats, logMagnitudes, quantileSorted } from '../../../src/engine/similarity/scoreDistribution';
import type { TraceReport } from '../../../src/protocol/report';
import { similarityReading, similarityReport } from '../../../src/worker/similarityJob';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)), `${a} vs ${b}`);

describe('quantileSorted (type 7)', () => {
  test('interpolates between order statistics', () => {
    const x = [1, 2, 4, 8, 16];
    // h = 4p: p = 0.5 → x(2) = 4; p = 0.1 → h = 0.4 → 1 + 0.4·1 = 1.4; p = 0.95 → h = 3.8 → 8 + 0.8·8 = 14.4.
    assert.equal(quantileSorted(x, 0.5), 4);
    close(quantileSorted(x, 0.1), 1.4);
    close(quantileSorted(x, 0.95), 14.4);
    assert.equal(quantileSorted(x, 0), 1);
    assert.equal(quantileSorted(x, 1), 16);
    assert.equal(quantileSorted([7], 0.3), 7);
    assert.ok(Number.isNaN(quantileSorted([], 0.5)));
  });
});

describe('distributionStats', () => {
  test('moments, magnitudes, signs and quantiles of [−3, −1, 0, 2, 6]', () => {
    const s = distributionStats([2, -1, 6, 0, -3, NaN]);
    // Finite values: −3, −1, 0, 2, 6 (n = 5). Mean 4/5 = 0.8.
    assert.equal(s.count, 5);
    close(s.mean, 0.8);
    // Squared deviations: 14.44 + 3.24 + 0.64 + 1.44 + 27.04 = 46.8; population sd √(46.8/5).
    close(s.sd, Math.sqrt(46.8 / 5));
    // |values| 0, 1, 2, 3, 6: mean 12/5, median 2, max 6.
    close(s.meanAbs, 2.4);
    assert.equal(s.medianAbs, 2);
    assert.equal(s.maxAbs, 6);
    assert.equal(s.fractionPositive, 0.4);
    assert.equal(s.fractionNegative, 0.4);
    // p = 0.25: h = 1 → −1; p = 0.75: h = 3 → 2; p = 0.05: h = 0.2 → −3 + 0.2·2 = −2.6; p = 0.99: h = 3.96 → 2 + 0.96·4 = 5.84.
    const q = new Map(s.quantiles.map((x) => [x.p, x.value]));
    assert.equal(q.get(0.25), -1);
    assert.equal(q.get(0.5), 0);
    assert.equal(q.get(0.75), 2);
    close(q.get(0.05) as number, -2.6);
    close(q.get(0.99) as number, 5.84);
  });

  test('no finite value: count 0 and NaN statistics', () => {
    const s = distributionStats([NaN, Infinity]);
    assert.equal(s.count, 0);
    assert.ok(Number.isNaN(s.meanAbs));
  });
});

describe('commonLogDensityHistograms', () => {
  test('both vectors on the same bins, each with its own density', () => {
    // Range [0, 4] over 4 bins of width 1; the last bin is closed: 4 falls in bin 3.
    const [a, b] = commonLogDensityHistograms([[0, 0.5, 1, 4], [2, 2.5]], 4);
    assert.ok(a && b);
    for (const h of [a, b]) {
      assert.equal(h.min, 0);
      assert.equal(h.max, 4);
      assert.equal(h.binWidth, 1);
    }
    assert.deepEqual(a.counts, [2, 1, 0, 1]);
    assert.deepEqual(b.counts, [0, 0, 2, 0]);
    // log10(c / (n·h)): a: 2/4, 1/4, empty, 1/4; b: 2/2 in bin 2.
    assert.deepEqual(a.logDensity, [Math.log10(0.5), Math.log10(0.25), null, Math.log10(0.25)]);
    assert.deepEqual(b.logDensity, [null, null, 0, null]);
    assert.equal(a.total, 4);
    assert.equal(b.total, 2);
  });

  test('densities integrate to one', () => {
    const [a] = commonLogDensityHistograms([Array.from({ length: 1000 }, (_, i) => Math.sin(i) * i)], 37);
    assert.ok(a);
    close(a.logDensity.reduce((s: number, d) => s + (d === null ? 0 : 10 ** d * a.binWidth), 0), 1, 1e-9);
  });

  test('all values equal: one bin of width 1 around them', () => {
    const [a] = commonLogDensityHistograms([[3, 3]], 10);
    assert.deepEqual(a, { min: 2.5, max: 3.5, binWidth: 1, counts: [2], logDensity: [0], total: 2 });
  });

  test('logMagnitudes drops zeros and non-finite values', () => {
    assert.deepEqual(Array.from(logMagnitudes([100, -0.01, 0, NaN])), [2, -2]);
  });
});

/** A trace report with just what the comparison reads. */
function report(scores: number[], testCount: number, converged = true): TraceReport {
  return {
    version: 1,
    case: 'fixed',
    test: Array.from({ length: testCount }, (_, i) => ({ index: i, id: `t${i}`, label: 0, prediction: 0, loss: 0 })),
    pretrainCount: scores.length,
    scores,
    harmful: [],
    helpful: [],
    settings: { pretrainDamping: 0, finetuneDamping: 0, cgIterations: 0, cgTolerance: 0, hessianSamples: 0, alpha: 0, seed: 0, dampingForm: 'plain', solver: 'exact' },
    diagnostics: {
      backend: 'cpu',
      seconds: 0,
      cgResidual: [],
      solves: [{ system: 'pretrain', solver: 'exact', dampingForm: 'plain', damping: 0, dimension: 1, iterations: 1, residuals: [], relativeResidual: 0, converged, negativeCurvatureAt: null }],
      hessianSampleCount: 0,
      parameters: { W: 0, U: 0, Theta: 0 },
      gradientNorms: { pretrain: 0, finetune: 0 },
      warnings: [],
      phases: [],
    },
  } as TraceReport;
}

describe('similarityReport', () => {
  test('normalises each side per test point and puts both on common bins', () => {
    // A: summed over 2 test points → per point [1, −2, 3]; B: over 4 → [0.5, 0.25, −0.25].
    const r = similarityReport(
      { config: '/a/msif.json', test: 'all', report: report([2, -4, 6], 2), finetuneTrainCount: 100 },
      { config: '/b/msif.json', test: 'all', report: report([2, 1, -1], 4), finetuneTrainCount: 400 },
      { backend: 'cpu', seconds: 1 },
    );
    close(r.a.perTestPoint.meanAbs, 2);
    close(r.b.perTestPoint.meanAbs, 1 / 3);
    close(r.a.summed.meanAbs, 4);
    close(r.ratio.meanAbs, 6);
    // Medians of |·|: A 2, B 0.25.
    close(r.ratio.medianAbs, 8);
    assert.equal(r.a.histogram.min, -2);
    assert.equal(r.b.histogram.min, -2);
    assert.equal(r.a.histogram.max, 3);
    assert.equal(r.b.histogram.binWidth, r.a.histogram.binWidth);
    assert.equal(r.a.histogram.total, 3);
    assert.equal(r.b.magnitudeHistogram.min, r.a.magnitudeHistogram.min);
    // A is more influential and finetunes on fewer examples: §4.3 and §4.4 both read off.
    assert.match(r.reading.join(' '), /A's pretraining examples are 6(\.00)?× as influential/);
    assert.match(r.reading.join(' '), /A finetunes on 100 examples and B on 400, so A's larger magnitudes agree with its smaller finetuning set/);
  });

  test('reading: similar magnitudes, equal sizes, an unconverged side', () => {
    const a = similarityReport(
      { config: 'a', test: 'all', report: report([1, -1], 1), finetuneTrainCount: 50 },
      { config: 'b', test: 'all', report: report([1.1, -1], 1, false), finetuneTrainCount: 50 },
      { backend: 'cpu', seconds: 0 },
    );
    const text = a.reading.join(' ');
    assert.match(text, /magnitudes are similar/);
    assert.match(text, /Both finetune on 50 examples/);
    assert.match(text, /B's trace has an unconverged solve/);
    assert.equal(a.b.converged, false);
    assert.deepEqual(similarityReading(a.a, a.b, NaN).slice(-1), ['One side has no non-zero score, so the magnitudes cannot be compared.']);
  });
});
