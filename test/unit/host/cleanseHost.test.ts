/** The host side of cleansing and similarity: command arguments, result caching and panel models. */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parseWorkspaceConfig } from '../../../src/common/workspaceConfig';
import type { CleanseArm, CleanseReport } from '../../../src/protocol/cleanseReport';
import { FingerprintCache } from '../../../src/host/cache/fileFingerprint';
import { parseCleanseArgs, parseWriteFilteredArgs, percentProblem } from '../../../src/host/commands/cleanseArgs';
import { AnalysisResults, analysisCacheKey, workspaceKeyPart } from '../../../src/host/commands/cleanseCache';
import { parseSimilarityArgs } from '../../../src/host/commands/similarityArgs';
import { cleansePanelModel, cleanseTitle } from '../../../src/host/panels/analysisPanelModels';

describe('command arguments', () => {
  test('cleanse: valid fields kept, invalid ones dropped', () => {
    assert.deepEqual(parseCleanseArgs({ config: 'ws/msif.json', percent: 10, by: 'test', heldoutFraction: 0.3, case: 'updated', randomTrials: 0, seed: 4, rethrow: true }), {
      config: 'ws/msif.json',
      percent: 10,
      by: 'test',
      heldoutFraction: 0.3,
      case: 'updated',
      randomTrials: 0,
      seed: 4,
      rethrow: true,
    });
    assert.deepEqual(parseCleanseArgs({ percent: 100, by: 'train', heldoutFraction: 1, randomTrials: -1, seed: 1.5, case: 'x' }), {});
    assert.deepEqual(parseCleanseArgs({ type: 'config', configPath: '/w/msif.json' }), { config: '/w/msif.json' });
    assert.deepEqual(parseCleanseArgs({ scheme: 'file', fsPath: '/w/msif.json' }), { config: '/w/msif.json' });
    assert.deepEqual(parseCleanseArgs(undefined), {});
    assert.deepEqual(parseCleanseArgs([1]), {});
  });

  test('write filtered: needs a config and non-negative integer indices', () => {
    assert.deepEqual(parseWriteFilteredArgs({ config: '/c', exclude: [3, 0], out: '/o.jsonl' }), { config: '/c', exclude: [3, 0], out: '/o.jsonl' });
    assert.equal(parseWriteFilteredArgs({ config: '/c', exclude: [1.5] }), undefined);
    assert.equal(parseWriteFilteredArgs({ config: '/c', exclude: [-1] }), undefined);
    assert.equal(parseWriteFilteredArgs({ exclude: [1] }), undefined);
    assert.equal(parseWriteFilteredArgs({ config: '/c' }), undefined);
  });

  test('percentage input', () => {
    assert.equal(percentProblem('12.5'), undefined);
    assert.match(percentProblem('') ?? '', /Enter a number/);
    assert.match(percentProblem('abc') ?? '', /Enter a number/);
    assert.match(percentProblem('100') ?? '', /less than 100/);
    assert.match(percentProblem('0') ?? '', /greater than 0/);
  });

  test('similarity', () => {
    assert.deepEqual(parseSimilarityArgs({ config: 'a', other: 'b', test: 3, case: 'fixed' }), { config: 'a', other: 'b', test: '3', case: 'fixed' });
    assert.deepEqual(parseSimilarityArgs({ config: '', other: 7, test: -1 }), {});
  });
});

describe('analysis cache', () => {
  const fp = (p: string, sha1: string) => ({ path: p, size: 1, mtimeMs: 0, sha1 });

  test('keys: file order does not matter; contents, options and the order of A and B do', () => {
    const a = { configHash: 'h1', files: [fp('/x', '1'), fp('/y', '2')] };
    const aShuffled = { configHash: 'h1', files: [fp('/y', '2'), fp('/x', '1')] };
    const b = { configHash: 'h2', files: [fp('/z', '3')] };
    assert.equal(analysisCacheKey('cleanse', [a], { percent: 10, by: 'heldout' }), analysisCacheKey('cleanse', [aShuffled], { by: 'heldout', percent: 10 }));
    assert.notEqual(analysisCacheKey('cleanse', [a], { percent: 10 }), analysisCacheKey('cleanse', [a], { percent: 5 }));
    assert.notEqual(analysisCacheKey('cleanse', [a], { percent: 10 }), analysisCacheKey('cleanse', [{ ...a, files: [fp('/x', '9'), fp('/y', '2')] }], { percent: 10 }));
    assert.notEqual(analysisCacheKey('similarity', [a, b], {}), analysisCacheKey('similarity', [b, a], {}));
    assert.notEqual(analysisCacheKey('similarity', [a], {}), analysisCacheKey('cleanse', [a], {}));
  });

  test('workspaceKeyPart fingerprints msif.json, models, weights and datasets; an edit changes the key', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-key-'));
    try {
      await fs.writeFile(path.join(dir, 'm.json'), JSON.stringify({ weightsManifest: [{ paths: ['w.bin'] }] }));
      await fs.writeFile(path.join(dir, 'w.bin'), 'w');
      for (const f of ['p.jsonl', 't.jsonl', 'e.jsonl']) await fs.writeFile(path.join(dir, f), '{}\n');
      const text = JSON.stringify({
        version: 1,
        sharedLayers: ['a'],
        pretrain: { model: 'm.json', train: 'p.jsonl', loss: 'mse' },
        finetune: { model: 'm.json', train: 't.jsonl', test: 'e.jsonl', loss: 'mse' },
      });
      const configPath = path.join(dir, 'msif.json');
      await fs.writeFile(configPath, text);
      const config = parseWorkspaceConfig(text, configPath);
      const part = await workspaceKeyPart(configPath, 'h', config, new FingerprintCache());
      assert.deepEqual(part.files.map((f) => path.basename(f.path)).sort(), ['e.jsonl', 'm.json', 'msif.json', 'p.jsonl', 't.jsonl', 'w.bin']);
      const before = analysisCacheKey('cleanse', [part], {});
      await fs.writeFile(path.join(dir, 'p.jsonl'), '{"changed": true}\n');
      const after = analysisCacheKey('cleanse', [await workspaceKeyPart(configPath, 'h', config, new FingerprintCache())], {});
      assert.notEqual(after, before);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('a result is computed once, joined while running, cached; a cancellation is not cached', async () => {
    const results = new AnalysisResults<string>();
    const CANCEL = Symbol('cancel');
    const keep = (r: string | typeof CANCEL): r is string => r !== CANCEL;
    let runs = 0;
    let release: (v: string) => void = () => undefined;
    const compute = (): Promise<string> => {
      runs++;
      return new Promise((resolve) => (release = resolve));
    };
    const first = results.get('k', compute, keep);
    const second = results.get('k', compute, keep);
    await new Promise((r) => setImmediate(r));
    release('report');
    assert.deepEqual(await first, { result: 'report', cached: false });
    assert.deepEqual(await second, { result: 'report', cached: false });
    assert.deepEqual(await results.get('k', compute, keep), { result: 'report', cached: true });
    assert.equal(runs, 1);

    const cancelled = await results.get('c', async (): Promise<string | typeof CANCEL> => CANCEL, keep);
    assert.equal(cancelled.result, CANCEL);
    assert.equal(results.peek('c'), undefined);
    assert.deepEqual(await results.get('c', async () => 'later', keep), { result: 'later', cached: false });
  });
});

describe('cleansePanelModel', () => {
  const arm = (kind: CleanseArm['kind'], removed: number[], loss: number, acc: number): CleanseArm => ({
    kind,
    removed,
    test: { count: 10, loss, accuracy: acc },
    heldout: { count: 4, loss: loss + 0.1, accuracy: acc },
    change: { loss: loss - 0.5, accuracy: acc - 0.8 },
    scoringLossChange: loss - 0.5,
    predictedScoringLossChange: -0.01,
    training: { pretrain: { finalLoss: 0.2, gradientNorm: 1e-4 }, finetune: { finalLoss: 0.3, gradientNorm: 2e-4 } },
  });
  const report = {
    version: 1,
    kind: 'cleanse',
    config: '/w/msif.json',
    case: 'fixed',
    by: 'heldout',
    percent: 20,
    seed: 0,
    pretrainCount: 10,
    requestedCount: 2,
    removedCount: 2,
    finetuneTrainCount: 8,
    heldout: { fraction: 0.2, indices: [1, 4], ids: ['f1', 'f4'] },
    scoring: { set: 'heldout', count: 2, scores: [0.5, -1, 3, 0, 0, 0, 0, 0, 0, 0], solves: [] },
    removed: [
      { index: 2, id: 'p2', score: 3, line: 3 },
      { index: 0, id: 'p0', score: 0.5, text: 'cat' },
    ],
    arms: { baseline: arm('baseline', [], 0.5, 0.8), cleansed: arm('cleansed', [0, 2], 0.4, 0.9), random: [arm('random', [5, 7], 0.55, 0.7)] },
    randomSummary: { accuracyChange: { mean: -0.1, sd: 0, n: 1 }, lossChange: { mean: 0.05, sd: 0, n: 1 } },
    summary: 'text',
    settings: { training: { optimizer: 'adam', learningRate: 0.1, batchSize: 1, pretrainEpochs: 1, finetuneEpochs: 1, seed: 0, polishSteps: 0 }, randomTrials: 1, heldoutFraction: 0.2, initialization: 'saved-weights' },
    diagnostics: { backend: 'wasm', seconds: 3, phases: [], warnings: ['w'] },
  } satisfies CleanseReport;

  test('arms in order with their changes, the removed rows, the score histogram', () => {
    const m = cleansePanelModel({ revision: 7, configPath: '/w/msif.json', configLabel: 'msif.json', report, examples: [] });
    assert.equal(m.kind, 'cleanse');
    assert.equal(m.title, cleanseTitle(report));
    assert.equal(m.title, 'MSIF: Cleanse 20% (held-out)');
    assert.deepEqual(m.arms.map((a) => [a.kind, a.label, a.removedCount]), [
      ['baseline', 'Baseline (nothing removed)', 0],
      ['cleansed', 'Cleansed (top 2 harmful removed)', 2],
      ['random', 'Random 1 (2 removed)', 2],
    ]);
    const cleansed = m.arms[1];
    assert.ok(cleansed);
    assert.ok(Math.abs(cleansed.lossChange - -0.1) < 1e-12);
    assert.equal(cleansed.heldoutLoss, 0.5);
    assert.deepEqual(cleansed.gradientNorms, { pretrain: 1e-4, finetune: 2e-4 });
    assert.deepEqual(m.removed, [
      { index: 2, id: 'p2', score: 3, line: 3 },
      { index: 0, id: 'p0', score: 0.5, text: 'cat' },
    ]);
    assert.equal(m.histogram.total, 10);
    assert.equal(m.heldoutFraction, 0.2);
    assert.deepEqual(m.warnings, ['w']);
    // A model is plain JSON (it goes to the webview and into its saved state).
    assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
  });
});
