import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TraceStore } from '../../../src/host/traceStore';
import { nodeId, setLabel, testPointDescription, treeChildren } from '../../../src/host/views/influenceTree';
import type { TreeNode } from '../../../src/host/views/influenceTree';
import { fakeReport, point } from './fakeReport';

const CFG = '/w/msif.json';
const commands = { trace: 'msif.traceToPretraining', showMisclassified: 'msif.showMisclassified' };

describe('TraceStore', () => {
  test('keeps the latest trace per config and the test points seen, misclassified first', () => {
    const s = new TraceStore();
    let fired = 0;
    s.onDidChange(() => fired++);
    s.add({ key: 'k1', configPath: CFG, selection: '5', case: 'fixed', report: fakeReport([1, -1], [point(5, 1, 1)]) });
    s.add({ key: 'k2', configPath: CFG, selection: '3', case: 'fixed', report: fakeReport([2, -2], [point(3, 0, 1)]) });
    assert.equal(fired, 2);
    assert.equal(s.latest(CFG)?.key, 'k2');
    assert.deepEqual(s.testPoints(CFG).map((t) => t.index), [3, 5]);
    assert.equal(s.findForTestPoint(CFG, { index: 5, id: 'test-5' })?.key, 'k1');
    assert.equal(s.misclassified(CFG), undefined);
  });

  test('a misclassified trace or an evaluation makes the misclassified list known', () => {
    const s = new TraceStore();
    s.add({ key: 'm', configPath: CFG, selection: 'misclassified', case: 'fixed', report: fakeReport([1], [point(7, 0, 2), point(2, 1, 0)]) });
    assert.deepEqual(s.misclassified(CFG)?.map((t) => t.index), [2, 7]);
    s.setEvaluation(CFG, [point(0, 0, 0), point(1, 1, 0)]);
    assert.deepEqual(s.misclassified(CFG)?.map((t) => t.index), [1]);
    assert.equal(s.testCount(CFG), 2);
    s.forget(CFG);
    assert.equal(s.latest(CFG), undefined);
  });

  test('ranks are computed once per report', () => {
    const s = new TraceStore();
    const r = fakeReport([0.5, 2, -1], []);
    const a = s.ranksOf(r);
    assert.deepEqual([...a], [2, 1, 3]);
    assert.equal(s.ranksOf(r), a);
  });
});

describe('influence tree', () => {
  const configs = [{ path: CFG, label: 'msif.json' }];
  test('config → sets and test points → Harmful/Helpful → examples; untraced points offer a trace action', () => {
    const s = new TraceStore();
    s.add({ key: 'm', configPath: CFG, selection: 'misclassified', case: 'fixed', report: fakeReport([3, -1, 2], [point(1, 0, 1), point(4, 1, 0)]) });
    s.add({ key: 't', configPath: CFG, selection: '4', case: 'fixed', report: fakeReport([1, -3, 0], [point(4, 1, 0)]) });
    const roots = treeChildren(undefined, configs, s, commands);
    assert.deepEqual(roots.map((n) => n.type), ['config']);
    const level1 = treeChildren(roots[0], configs, s, commands);
    assert.deepEqual(level1.map((n) => n.type), ['set', 'testPoint', 'testPoint']);
    const untraced = level1[1] as Extract<TreeNode, { type: 'testPoint' }>;
    assert.equal(untraced.point.index, 1);
    const action = treeChildren(untraced, configs, s, commands)[0] as Extract<TreeNode, { type: 'action' }>;
    assert.equal(action.command, 'msif.traceToPretraining');
    assert.deepEqual(action.args, { config: CFG, test: '1' });
    const traced = level1[2]!;
    const groups = treeChildren(traced, configs, s, commands);
    assert.deepEqual(groups.map((g) => (g as { which: string }).which), ['harmful', 'helpful']);
    const examples = treeChildren(groups[1], configs, s, commands) as Extract<TreeNode, { type: 'example' }>[];
    assert.deepEqual(examples.map((e) => [e.example.index, e.rank]), [[1, 1]]);
    assert.equal(new Set([...level1, ...groups, ...examples].map(nodeId)).size, level1.length + groups.length + examples.length);
    assert.equal(setLabel((level1[0] as Extract<TreeNode, { type: 'set' }>).trace), 'Misclassified test points (2, Case 1)');
  });

  test('a config with errors shows the error; an unexplored config offers to find misclassified points', () => {
    const s = new TraceStore();
    const bad = treeChildren({ type: 'config', configPath: CFG, label: 'x', error: 'bad field' }, configs, s, commands);
    assert.equal(bad[0]?.type, 'message');
    const fresh = treeChildren({ type: 'config', configPath: CFG, label: 'x' }, configs, s, commands);
    assert.deepEqual(fresh.map((n) => (n.type === 'action' ? n.command : n.type)), ['msif.showMisclassified']);
  });

  test('testPointDescription', () => {
    assert.equal(testPointDescription(point(1, 0, 1), String), '✗ true 0 → predicted 1');
    assert.equal(testPointDescription(point(1, 1, 1), String), 'true 1 → predicted 1');
  });
});

test('the tree lists at most MAX_TREE_TEST_POINTS test points, misclassified first, and counts the rest', async () => {
  const { MAX_TREE_TEST_POINTS } = await import('../../../src/host/views/influenceTree');
  const s = new TraceStore();
  const points = Array.from({ length: MAX_TREE_TEST_POINTS + 7 }, (_, i) => point(i, 0, i === 505 ? 1 : 0));
  s.setEvaluation(CFG, points);
  const children = treeChildren({ type: 'config', configPath: CFG, label: 'x' }, [{ path: CFG, label: 'x' }], s, commands);
  const tests = children.filter((n) => n.type === 'testPoint') as Extract<TreeNode, { type: 'testPoint' }>[];
  assert.equal(tests.length, MAX_TREE_TEST_POINTS);
  assert.equal(tests[0]?.point.index, 505);
  const last = children[children.length - 1];
  assert.equal(last?.type === 'message' ? last.label : '', '7 more test points');
});
