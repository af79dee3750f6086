/**
 * The extension's side of the leave-one-out check: the cache key (what makes two checks
 * the same), the service (cached and joined, never run twice), the command's automation
 * arguments and the panel model built from a report.
 */
import './vscodeStub';
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseValidateArgs } from '../../../src/host/commands/validateInfluence';
import type { EngineClient } from '../../../src/host/engineClient';
import type { LoadedConfig } from '../../../src/host/configRegistry';
import { validatePanelModel, VALIDATE_TITLE } from '../../../src/host/panels/validatePanelModel';
import { CANCELLED } from '../../../src/host/progress/withJobProgress';
import type { TraceService } from '../../../src/host/traceService';
import { validateCacheKey, ValidateService } from '../../../src/host/validateService';
import type { ValidateOptions, ValidateReport } from '../../../src/protocol/validateReport';
import { point } from './fakeReport';
import type * as vscode from 'vscode';

const log = { info: () => undefined, warn: () => undefined } as unknown as vscode.LogOutputChannel;
const entry = { path: '/w/msif.json', label: 'w' } as unknown as LoadedConfig;

function report(sample: number): ValidateReport {
  const cell = { n: 2, pearson: 0.9, spearman: 1 };
  const set = { top: cell, random: { n: 2, pearson: null, spearman: null }, all: { ...cell, n: 4 } };
  const stage = { iterations: 3, evaluations: 4, initialGradientNorm: 1e-2, gradientNorm: 1e-7, objective: 0.5, converged: true, stop: 'converged' };
  const run = { testLoss: 1.5, pretrain: stage, finetune: stage };
  return {
    version: 1,
    kind: 'validate',
    case: 'fixed',
    test: [point(0, 1, 1)],
    pretrainCount: 100,
    sample: { requested: sample, top: 1, random: 1, seed: 0 },
    rows: [
      { index: 7, id: 'pre-7', line: 8, sample: 'top', score: 2, predicted: -0.02, actual: -0.03, identityPredicted: 1e-3, randomPredicted: 0.4, retrain: run },
      { index: 3, id: 'pre-3', sample: 'random', score: 0.1, predicted: -1e-3, actual: 2e-4, identityPredicted: -1e-4, randomPredicted: -1, retrain: { ...run, finetune: { ...stage, converged: false, stop: 'max-iterations' } } },
    ],
    correlations: { influence: set, identity: set, random: set },
    testLoss: { saved: 1.4, base: 1.5, noise: 1.5 },
    noiseFloor: { spread: 0, medianAbsActual: { all: 1e-2, top: 3e-2, random: 2e-4 }, threshold: 0.1, comparable: { all: false, top: false, random: false } },
    settings: {
      influence: { pretrainDamping: 0.01, finetuneDamping: 1e-3, cgIterations: 100, cgTolerance: 1e-5, hessianSamples: 100, alpha: 0.01, seed: 0, dampingForm: 'plain', solver: 'auto' },
      retrain: { objective: 'proximal', gradientTolerance: 1e-6, maxIterations: 200, memory: 10, start: 'base', optimizer: 'lbfgs', proximal: { pretrain: 0.01, finetune: 1e-3 } },
    },
    retrain: { base: run, noise: run },
    diagnostics: { backend: 'cpu', seconds: 3, solves: [], gradientNorms: { pretrain: 1e-3, finetune: 1e-3 }, unconvergedRuns: 1, warnings: ['w1'], phases: [] },
  };
}

function harness() {
  const calls: ValidateOptions[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const engine = {
    validate: async (_config: string, options: ValidateOptions) => {
      calls.push(options);
      await gate;
      return report(options.sample);
    },
  } as unknown as EngineClient;
  const traces = {
    prepare: async (_e: LoadedConfig, s: { test: string; case?: string }) => ({ key: `trace:${s.test}:${s.case}`, kase: s.case, options: { test: s.test, overrides: { finetuneDamping: 0.5 } } }),
  } as unknown as TraceService;
  return { service: new ValidateService(engine, traces, log), calls, release };
}

describe('validateCacheKey', () => {
  test('differs in every input of the check, equal for equal inputs', () => {
    const base = { test: 'all', case: 'fixed' as const, sample: 10 };
    const k = validateCacheKey('T', base);
    assert.equal(validateCacheKey('T', { ...base }), k);
    assert.notEqual(validateCacheKey('T2', base), k, 'the trace key (config, files, test, case, overrides)');
    assert.notEqual(validateCacheKey('T', { ...base, sample: 11 }), k);
    assert.notEqual(validateCacheKey('T', { ...base, seed: 1 }), k);
    assert.notEqual(validateCacheKey('T', { ...base, retrain: { maxIterations: 5 } }), k);
    assert.equal(validateCacheKey('T', { ...base, retrain: {} }), k, 'no retraining options = the defaults');
  });
});

describe('ValidateService', () => {
  test('joins a running check, then answers from the cache; sends the trace overrides', async () => {
    const { service, calls, release } = harness();
    const request = { test: 'all', case: 'fixed' as const, sample: 4 };
    const a = service.validate(entry, request, 'title');
    const b = service.validate(entry, request, 'title');
    await new Promise((r) => setImmediate(r));
    release();
    const [ra, rb] = await Promise.all([a, b]);
    assert.ok(ra !== CANCELLED && rb !== CANCELLED);
    assert.equal(calls.length, 1, 'one worker call for two concurrent requests');
    assert.deepEqual(calls[0], { sample: 4, test: 'all', case: 'fixed', overrides: { finetuneDamping: 0.5 } });
    const c = await service.validate(entry, request, 'title');
    assert.ok(c !== CANCELLED && c.cached);
    assert.equal(calls.length, 1);
    await service.validate(entry, { ...request, sample: 6 }, 'title');
    assert.equal(calls.length, 2, 'another N is another check');
  });
});

describe('parseValidateArgs', () => {
  test('reads sample, seed and retraining options; ignores malformed ones', () => {
    assert.deepEqual(parseValidateArgs({ sample: 6, seed: 2, retrain: { objective: 'plain', gradientTolerance: 1e-7, maxIterations: 9 } }), {
      sample: 6,
      seed: 2,
      retrain: { objective: 'plain', gradientTolerance: 1e-7, maxIterations: 9 },
    });
    assert.deepEqual(parseValidateArgs({ sample: 0, seed: -1, retrain: { objective: 'exact', gradientTolerance: -1, maxIterations: 1.5 } }), {});
    assert.deepEqual(parseValidateArgs(undefined), {});
  });
});

describe('validatePanelModel', () => {
  test('carries the rows, correlations, noise floor and retraining facts of the report', () => {
    const r = report(2);
    const m = validatePanelModel({ revision: 3, configPath: '/w/msif.json', configLabel: 'w', selection: 'all', report: r, names: new Map(), examples: [] });
    assert.equal(m.kind, 'validate');
    assert.equal(m.title, VALIDATE_TITLE);
    assert.deepEqual(m.rows.map((x) => [x.index, x.sample, x.converged, x.line]), [
      [7, 'top', true, 8],
      [3, 'random', false, undefined],
    ]);
    assert.deepEqual(m.correlations, r.correlations);
    assert.deepEqual(m.retrain, { objective: 'proximal', gradientTolerance: 1e-6, maxIterations: 200, proximal: { pretrain: 0.01, finetune: 1e-3 }, runs: 4, unconvergedRuns: 1 });
    assert.deepEqual(m.warnings, ['w1']);
    assert.equal(m.testPoints.length, 1);
  });
});
