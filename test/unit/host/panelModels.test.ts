import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  comparePanelModel,
  isMisclassified,
  misclassifiedPanelModel,
  testPointView,
  tracePanelModel,
  traceTitle,
} from '../../../src/host/panels/panelModels';
import { fakeReport, point } from './fakeReport';

const names = new Map([
  [0, 'Coat'],
  [1, 'Shirt'],
]);

describe('panel models', () => {
  test('traceTitle: the test point id for one, the count for a set', () => {
    assert.equal(traceTitle({ test: [point(3, 0, 1)] }, '3'), 'MSIF: test-3');
    assert.equal(traceTitle({ test: [point(3, 0, 1)] }, 'misclassified'), 'MSIF: 1 test point');
    assert.equal(traceTitle({ test: [point(3, 0, 1), point(4, 1, 0)] }, 'all'), 'MSIF: 2 test points');
  });

  test('test points carry formatted labels and the misclassified flag', () => {
    assert.deepEqual(testPointView(point(3, 0, 1), names), {
      index: 3,
      id: 'test-3',
      label: '0 · Coat',
      prediction: '1 · Shirt',
      misclassified: true,
      loss: 3.5,
      line: 4,
    });
    assert.equal(isMisclassified(point(1, 1, 1)), false);
    assert.equal(isMisclassified({ label: [0.5], prediction: [0.4] }), false);
  });

  test('the trace model keeps the report scores and top lists exactly', () => {
    const scores = [0.1, -0.2, 3e-7, -5, 12877.576171875];
    const report = fakeReport(scores, [point(3, 0, 1)]);
    const m = tracePanelModel({ revision: 4, configPath: '/w/msif.json', configLabel: 'msif.json', selection: '3', report, names, examples: [] });
    assert.equal(m.kind, 'trace');
    assert.equal(m.title, 'MSIF: test-3');
    assert.equal(m.result.scores, scores);
    assert.deepEqual(m.result.harmful.map((r) => [r.index, r.score]), [
      [4, 12877.576171875],
      [0, 0.1],
      [2, 3e-7],
    ]);
    assert.equal(m.histogram.total, 5);
    assert.equal(m.diagnostics.solves[0]?.converged, false);
    assert.deepEqual(m.diagnostics.warnings, ['not converged']);
    assert.equal(m.diagnostics.settings['dampingForm'], 'plain');
    // JSON round trip (postMessage) keeps every score bit for bit.
    const back = JSON.parse(JSON.stringify(m)) as typeof m;
    assert.deepEqual(back.result.scores, scores);
    assert.equal(String(back.result.harmful[0]?.score), String(report.harmful[0]?.score));
  });

  test('the comparison has Spearman and the top-K overlap; sizes must match', () => {
    const a = fakeReport([1, 2, 3, -1, -2], [point(0, 0, 1)], 'fixed', 2);
    const b = fakeReport([1, 3, 2, -2, -1], [point(0, 0, 1)], 'updated', 2);
    const m = comparePanelModel({ revision: 1, configPath: '/w/msif.json', configLabel: 'x', selection: '0', fixed: a, updated: b, topK: 2, names, examples: [] });
    assert.equal(m.title, 'MSIF: Case 1 vs Case 2');
    assert.ok(m.spearman > 0.5 && m.spearman < 1);
    assert.deepEqual(m.overlap, { harmful: 2, helpful: 2 });
    assert.equal(m.case2.case, 'updated');
    assert.throws(() =>
      comparePanelModel({ revision: 1, configPath: '', configLabel: '', selection: '0', fixed: a, updated: fakeReport([1], []), topK: 2, names, examples: [] }),
    );
  });

  test('the misclassified model lists only misclassified points', () => {
    const m = misclassifiedPanelModel({
      revision: 1,
      configPath: '/w/msif.json',
      configLabel: 'x',
      points: [point(0, 0, 0), point(1, 0, 1), point(2, 1, 0)],
      testCount: 3,
      names,
      examples: [],
    });
    assert.equal(m.title, 'MSIF: Misclassified test points');
    assert.deepEqual(m.testPoints.map((t) => t.index), [1, 2]);
    assert.equal(m.testCount, 3);
  });
});
