/**
 * The bundled example `examples/fashion-mnist-small` (what `npm run demo` traces) and the
 * script that makes it, `scripts/makeFashionWorkspace.ts`.
 *
 * The trace runs on the default backend (`initBackend()`: MSIF_BACKEND, else the first
 * that starts). The script tests need Debian's `dataset-fashion-mnist` and are skipped
 * without it.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { initBackend } from '../../src/worker/backend';
import { loadWorkspace, runTrace } from '../../src/worker/jobs';
import { evaluateExamples } from '../../src/engine/influence/influenceScores';
import type { TraceReport } from '../../src/protocol/report';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'examples/fashion-mnist-small');
const CONFIG = path.join(EXAMPLE, 'msif.json');
const SCRIPT = path.join(ROOT, 'scripts/makeFashionWorkspace.ts');
const FASHION = '/usr/share/datasets/fashion-mnist';
const HAVE_FASHION = existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz'));

/** The non-blank lines of a JSON Lines file, parsed. */
async function readJsonl(file: string): Promise<{ id?: string; y: number; text?: string; x: unknown }[]> {
  const text = await fs.readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { id?: string; y: number; text?: string; x: unknown });
}

describe('examples/fashion-mnist-small', () => {
  let report: TraceReport;
  let firstMisclassified: number;
  let pretrainIds: string[];

  before(async () => {
    await initBackend();
    const ws = await loadWorkspace(CONFIG);
    try {
      const ev = await evaluateExamples(ws.finetuneModel, ws.config.finetune.loss, ws.finetuneTest, 256);
      const k = ev.indices.findIndex((_, j) => ev.predictions[j]?.[0] !== ev.labels[j]?.[0]);
      assert.ok(k >= 0, 'the example model misclassifies at least one test point');
      firstMisclassified = ev.indices[k] as number;
    } finally {
      ws.dispose();
    }
    pretrainIds = (await readJsonl(path.join(EXAMPLE, 'data/pretrain.jsonl'))).map((r, i) => r.id ?? String(i));
    report = await runTrace(CONFIG, { test: String(firstMisclassified), top: 5 });
  });

  test('traces the first misclassified test point', () => {
    assert.equal(report.test.length, 1);
    const t = report.test[0];
    assert.ok(t);
    assert.equal(t.index, firstMisclassified);
    assert.notEqual(t.prediction, t.label);
    assert.ok(Number.isFinite(t.loss) && t.loss > 0);
  });

  test('scores every pretraining example once, with a finite number', () => {
    assert.equal(report.pretrainCount, pretrainIds.length);
    assert.equal(report.scores.length, pretrainIds.length);
    for (const [i, s] of report.scores.entries()) assert.ok(Number.isFinite(s), `score ${i} is ${s}`);
    assert.ok(report.scores.some((s) => s !== 0), 'not all scores are zero');
  });

  test('harmful examples have positive scores, largest first; helpful negative, most negative first', () => {
    assert.equal(report.harmful.length, 5);
    assert.equal(report.helpful.length, 5);
    report.harmful.forEach((h, k) => {
      assert.ok(h.score > 0, `harmful[${k}].score ${h.score}`);
      assert.equal(h.score, report.scores[h.index]);
      if (k > 0) assert.ok(h.score <= (report.harmful[k - 1] as { score: number }).score, `harmful[${k}] is out of order`);
    });
    report.helpful.forEach((h, k) => {
      assert.ok(h.score < 0, `helpful[${k}].score ${h.score}`);
      assert.equal(h.score, report.scores[h.index]);
      if (k > 0) assert.ok(h.score >= (report.helpful[k - 1] as { score: number }).score, `helpful[${k}] is out of order`);
    });
    const maxScore = Math.max(...report.scores);
    const minScore = Math.min(...report.scores);
    assert.equal(report.harmful[0]?.score, maxScore);
    assert.equal(report.helpful[0]?.score, minScore);
  });

  test('the top harmful and helpful ids are pretraining examples', () => {
    const ids = new Set(pretrainIds);
    for (const r of [...report.harmful, ...report.helpful]) {
      assert.ok(ids.has(r.id), `id ${r.id} is not in data/pretrain.jsonl`);
      assert.equal(pretrainIds[r.index], r.id);
    }
  });

  test('both solves converged, without warnings', () => {
    const systems = report.diagnostics.solves.map((s) => s.system).sort();
    assert.deepEqual(systems, ['finetune', 'pretrain']);
    for (const s of report.diagnostics.solves) {
      assert.equal(s.converged, true, `${s.system} solve: relative residual ${s.relativeResidual} after ${s.iterations} iterations`);
      assert.equal(s.negativeCurvatureAt, null, `${s.system} solve met negative curvature`);
      // The engine calls a solve converged at a true residual ≤ 10 × cgTolerance.
      assert.ok(s.relativeResidual <= 10 * report.settings.cgTolerance, `${s.system} residual ${s.relativeResidual}`);
    }
    assert.deepEqual(report.diagnostics.warnings, []);
  });
});

describe('scripts/makeFashionWorkspace.ts', { skip: HAVE_FASHION ? false : `${FASHION} is missing (apt install dataset-fashion-mnist)` }, () => {
  // 14×14 images (the smallest the small CNN takes after --downsample); 10 / 7 / 6 examples.
  const TINY = ['--pretrain-count', '10', '--finetune-count', '7', '--test-count', '6', '--downsample', '2', '--seed', '3', '--backend', 'cpu'];
  let tmp: string;
  let a: string;
  let b: string;
  let runs: { status: number | null; stderr: string }[];

  function make(out: string, extra: readonly string[] = []): { status: number | null; stderr: string } {
    const env = { ...process.env };
    delete env['MSIF_BACKEND'];
    const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--out', out, ...TINY, ...extra], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stderr: r.stderr };
  }

  /** Every file under `dir`, relative, sorted. */
  async function listFiles(dir: string): Promise<string[]> {
    const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .sort();
  }

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-fashion-'));
    a = path.join(tmp, 'a');
    b = path.join(tmp, 'b');
    runs = [make(a), make(b)];
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('two runs with the same options write byte-identical files', async () => {
    for (const r of runs) assert.equal(r.status, 0, r.stderr);
    const files = await listFiles(a);
    assert.deepEqual(files, ['data/finetune_test.jsonl', 'data/finetune_train.jsonl', 'data/pretrain.jsonl', 'finetune/model.json', 'finetune/weights.bin', 'msif.json', 'pretrain/model.json', 'pretrain/weights.bin']);
    assert.deepEqual(await listFiles(b), files);
    for (const f of files) {
      const [x, y] = await Promise.all([fs.readFile(path.join(a, f)), fs.readFile(path.join(b, f))]);
      assert.ok(x.equals(y), `${f} differs between the two runs`);
    }
  });

  test('the workspace loads; its splits are balanced, disjoint in classes and renumbered', async () => {
    await initBackend();
    const ws = await loadWorkspace(path.join(a, 'msif.json'));
    try {
      assert.deepEqual(ws.pretrainModel.graph.inputShape, [14, 14, 1]);
      assert.equal(ws.pretrainTrain.count, 10);
      assert.equal(ws.finetuneTrain.count, 7);
      assert.equal(ws.finetuneTest.count, 6);
    } finally {
      ws.dispose();
    }
    const pre = await readJsonl(path.join(a, 'data/pretrain.jsonl'));
    const fin = await readJsonl(path.join(a, 'data/finetune_train.jsonl'));
    const count = (rows: { y: number }[], k: number): number[] => Array.from({ length: k }, (_, c) => rows.filter((r) => r.y === c).length);
    // 10 over 4 classes: 3, 3, 2, 2; 7 over 6 classes: 2, 1, 1, 1, 1, 1.
    assert.deepEqual(count(pre, 4), [3, 3, 2, 2]);
    assert.deepEqual(count(fin, 6), [2, 1, 1, 1, 1, 1]);
    const preNames = new Set(pre.map((r) => r.text));
    assert.ok(fin.every((r) => !preNames.has(r.text)), 'finetuning classes are not pretraining classes');
    assert.deepEqual(new Set(pre.map((r) => r.id)).size, 10);
    assert.equal(pre.filter((r) => r.id === 'pre-00000').length, 1);
  });

  test('overlapping class lists are refused, and nothing is written', () => {
    const out = path.join(tmp, 'overlap');
    const r = make(out, ['--pretrain-classes', '0,1', '--finetune-classes', '1,2']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /disjoint/);
    assert.equal(existsSync(out), false);
  });

  test('a model that does not fit the image size is refused before anything is written', () => {
    const out = path.join(tmp, 'tiny-images');
    const r = make(out, ['--downsample', '4']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /needs larger images than 7x7/);
    assert.equal(existsSync(out), false);
  });
});
