/**
 * `msif similarity` (paper §4.3–4.4) through the built command: two tiny workspaces that
 * differ in their finetuning-set size; the report's statistics are those of each
 * workspace's own `msif trace --test all`, per test point. Needs `npm run build` first.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commonLogDensityHistograms, distributionStats } from '../../src/engine/similarity/scoreDistribution';
import type { TraceReport } from '../../src/protocol/report';
import type { SimilarityReport } from '../../src/protocol/similarityReport';
import { makeCleanseWorkspace } from '../fixtures/cleanseWorkspace';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/msif.js');

function msif(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env['MSIF_DEBUG'];
  delete env['MSIF_BACKEND'];
  const r = spawnSync(process.execPath, [BIN, ...args, '--backend', 'wasm'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('msif similarity', () => {
  let tmp: string;
  let a: string;
  let b: string;

  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/cli.js')), 'dist/cli.js is missing: run npm run build first');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-similarity-'));
    // Same generator and pretraining data; finetuning on 60 against 300 examples.
    a = (await makeCleanseWorkspace(path.join(tmp, 'a'), { seed: 2, finetuneCount: 60, testCount: 100 })).msifPath;
    b = (await makeCleanseWorkspace(path.join(tmp, 'b'), { seed: 2, finetuneCount: 300, testCount: 200 })).msifPath;
    for (const c of [a, b]) {
      const run = msif(['train', '--config', c]);
      assert.equal(run.status, 0, run.stderr);
    }
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('per-test-point statistics and common-bin histograms of both traces, and the reading', async () => {
    const out = path.join(tmp, 'similarity.json');
    const started = Date.now();
    const run = msif(['similarity', '--config', a, '--other', b, '--out', out]);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Influence score distributions, per test point/);
    const r = JSON.parse(await fs.readFile(out, 'utf8')) as SimilarityReport;
    assert.equal(r.kind, 'similarity');
    assert.equal(r.normalization, 'per-test-point');
    assert.equal(r.a.config, a);
    assert.equal(r.b.config, b);
    assert.equal(r.a.test, 'all');
    assert.equal(r.a.testCount, 100);
    assert.equal(r.b.testCount, 200);
    assert.equal(r.a.finetuneTrainCount, 60);
    assert.equal(r.b.finetuneTrainCount, 300);
    assert.equal(r.a.pretrainCount, 300);

    // Against each workspace's own trace of the whole test set, divided by its size.
    const traces: TraceReport[] = [];
    for (const [c, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const file = path.join(tmp, `trace-${name}.json`);
      const t = msif(['trace', '--config', c, '--test', 'all', '--out', file]);
      assert.equal(t.status, 0, t.stderr);
      traces.push(JSON.parse(await fs.readFile(file, 'utf8')) as TraceReport);
    }
    const per = traces.map((t) => t.scores.map((s) => s / t.test.length));
    for (const [side, scores, trace] of [
      [r.a, per[0], traces[0]],
      [r.b, per[1], traces[1]],
    ] as const) {
      assert.ok(scores && trace);
      const want = distributionStats(scores);
      for (const k of ['mean', 'sd', 'meanAbs', 'medianAbs', 'maxAbs', 'fractionPositive', 'fractionNegative'] as const) close(side.perTestPoint[k], want[k], k);
      want.quantiles.forEach((q, i) => close(side.perTestPoint.quantiles[i]?.value ?? NaN, q.value, `quantile ${q.p}`));
      close(side.summed.meanAbs, distributionStats(trace.scores).meanAbs, 'summed mean |I|');
    }
    const [ha, hb] = commonLogDensityHistograms([per[0] ?? [], per[1] ?? []], 60);
    assert.deepEqual(r.a.histogram.counts, ha?.counts);
    assert.deepEqual(r.b.histogram.counts, hb?.counts);
    assert.equal(r.a.histogram.binWidth, r.b.histogram.binWidth);
    assert.equal(r.a.histogram.counts.reduce((s, c) => s + c, 0), 300);
    close(r.ratio.meanAbs, r.a.perTestPoint.meanAbs / r.b.perTestPoint.meanAbs, 'ratio');
    assert.match(r.reading.join(' '), /§4\.4: a larger finetuning set gives smaller influence magnitudes; A finetunes on 60 examples and B on 300/);
    // Two traces of a tiny model: measured 4–8 s on wasm.
    assert.ok(seconds < 60, `msif similarity took ${seconds.toFixed(1)} s`);
  });

  test('needs --other; a test selection applies to each workspace', () => {
    const missing = msif(['similarity', '--config', a]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^msif: 'msif similarity' needs --other/);
    const bad = msif(['similarity', '--config', a, '--other', b, '--test', '150']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /test index 150 is out of range/);
  });
});
