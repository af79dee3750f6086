/** TraceService.misclassified: the points come from the worker's evaluation job, once, and reach the store. */
import './vscodeStub';
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EngineClient } from '../../../src/host/engineClient';
import type { LoadedConfig } from '../../../src/host/configRegistry';
import type { Settings } from '../../../src/host/settings';
import { TraceService } from '../../../src/host/traceService';
import { TraceStore } from '../../../src/host/traceStore';
import type { TestPointSummary } from '../../../src/protocol/report';
import { point } from './fakeReport';
import type * as vscode from 'vscode';

const CFG = '/w/msif.json';
const entry = { path: CFG, label: 'w' } as unknown as LoadedConfig;
const log = { info: () => undefined, warn: () => undefined } as unknown as vscode.LogOutputChannel;

function service(points: TestPointSummary[]) {
  const calls: string[] = [];
  const engine = {
    evaluateTestPoints: async (configPath: string) => {
      calls.push(configPath);
      await new Promise((r) => setImmediate(r));
      return points;
    },
    trace: () => assert.fail('misclassified() must not run a trace'),
  } as unknown as EngineClient;
  const store = new TraceStore();
  return { traces: new TraceService(engine, store, {} as Settings, log), store, calls };
}

describe('TraceService.misclassified', () => {
  test('lists the misclassified points from the evaluation and records it in the store', async () => {
    const { traces, store, calls } = service([point(0, 1, 1), point(1, 0, 2), point(2, 2, 2), point(3, 1, 0)]);
    const [a, b] = await Promise.all([traces.misclassified(entry), traces.misclassified(entry)]);
    assert.deepEqual(a, { points: [point(1, 0, 2), point(3, 1, 0)], testCount: 4 });
    assert.deepEqual(b, a);
    assert.deepEqual(calls, [CFG], 'concurrent calls share one evaluation');
    assert.equal(store.testCount(CFG), 4);
    assert.deepEqual(store.testPoints(CFG).map((t) => t.index).sort(), [0, 1, 2, 3]);
    assert.deepEqual(await traces.misclassified(entry), a);
    assert.deepEqual(calls, [CFG], 'a known list is not evaluated again');
    traces.dispose();
  });

  test('no misclassified points is an empty list, not a trace', async () => {
    const { traces, calls } = service([point(0, 1, 1), point(1, 2, 2)]);
    assert.deepEqual(await traces.misclassified(entry), { points: [], testCount: 2 });
    assert.deepEqual(calls, [CFG]);
    traces.dispose();
  });
});
