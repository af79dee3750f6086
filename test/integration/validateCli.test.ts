/**
 * `msif validate` as a user runs it (the built `node bin/msif.js`; needs `npm run build`):
 * on a tiny converged workspace (report JSON on stdout, the summary with Pearson's r on
 * stderr) and on the bundled example workspace with a small sample (report to --out,
 * summary on stdout). The example's retraining is capped at 10 L-BFGS steps per stage so
 * that the 6 runs (base, noise floor, 4 examples) and the two score computations take
 * about a minute on wasm on a 2-core machine; its max-pooling CNN does not converge
 * tightly in any case, and the report must say so.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ValidateReport } from '../../src/protocol/validateReport';
import { initBackend } from '../../src/worker/backend';
import { buildTinyWorkspace } from '../fixtures/tinyWorkspaces';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/msif.js');
const EXAMPLE = path.join(ROOT, 'examples/fashion-mnist-small/msif.json');

function msifEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env['MSIF_DEBUG'];
  delete env['MSIF_BACKEND'];
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

function msif(args: readonly string[], timeoutMs: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: msifEnv(), encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `msif` in a child process of its own, running while the caller goes on. */
function msifAsync(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** What every report must hold, whatever the numbers. */
function assertWellFormed(r: ValidateReport, n: number): void {
  assert.equal(r.kind, 'validate');
  assert.equal(r.rows.length, n);
  for (const row of r.rows) {
    for (const v of [row.score, row.predicted, row.actual, row.identityPredicted, row.randomPredicted, row.retrain.testLoss]) assert.ok(Number.isFinite(v), JSON.stringify(row));
  }
  for (const set of [r.correlations.influence, r.correlations.identity, r.correlations.random]) {
    assert.deepEqual([set.top.n, set.random.n, set.all.n], [Math.floor(n / 2), n - Math.floor(n / 2), n]);
  }
  assert.ok(Number.isFinite(r.noiseFloor.spread));
}

describe('msif validate', () => {
  let tmp: string;
  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/cli.js')), 'dist/cli.js is missing: run npm run build first');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-validate-cli-'));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('tiny workspace: the report on stdout, the summary with Pearson r on stderr', async () => {
    await initBackend('wasm');
    const built = await buildTinyWorkspace(path.join(tmp, 'tiny'), { kind: 'mlp', case: 'fixed', seed: 1 });
    const run = msif(['validate', '--config', built.msifPath, '--sample', '6', '--test', '0', '--retrain', 'plain', '--tolerance', '1e-7', '--backend', 'wasm'], 120_000);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as ValidateReport;
    assertWellFormed(report, 6);
    assert.equal(report.diagnostics.unconvergedRuns, 0);
    assert.ok((report.correlations.influence.random.pearson ?? -1) >= 0.99, `r(random) = ${report.correlations.influence.random.pearson}`);
    assert.match(run.stderr, /Pearson r \(Spearman ρ\)\s+top-\|score\| \(n=3\)\s+random \(n=3\)\s+all \(n=6\)/);
    assert.match(run.stderr, /^influence \(−I\/m\)\s+\d\.\d{3} /m);
    assert.match(run.stderr, /^identity Hessians /m);
    assert.match(run.stderr, /^random scores /m);
  });

  /**
   * A check on a tiny workspace of its own, run once alone with the cache off: its
   * arguments, its report, and the environment of processes sharing a fresh journal.
   */
  const checkAlone = async (name: string, seed: number, sample: number): Promise<{ args: string[]; reference: ValidateReport; env: NodeJS.ProcessEnv }> => {
    const built = await buildTinyWorkspace(path.join(tmp, name), { kind: 'mlp', case: 'fixed', seed });
    const args = ['validate', '--config', built.msifPath, '--sample', String(sample), '--test', '0', '--retrain', 'plain', '--tolerance', '1e-7', '--backend', 'wasm'];
    const alone = msif(args, 180_000);
    assert.equal(alone.status, 0, alone.stderr);
    return { args, reference: JSON.parse(alone.stdout) as ValidateReport, env: msifEnv({ MSIF_CACHE: undefined, MSIF_CACHE_DIR: path.join(tmp, `${name}-cache`) }) };
  };

  test('two processes running the same check share its runs out: each run once, both reports equal one run alone', async () => {
    const { args, reference, env } = await checkAlone('shared', 4, 10);
    const both = await Promise.all([msifAsync(args, env, 180_000), msifAsync(args, env, 180_000)]);
    const reports = both.map((r) => {
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as ValidateReport;
    });
    const runs = reference.rows.length + 2;
    const ownRuns = reports.map((r) => {
      const j = r.diagnostics.journal;
      assert.ok(j, 'the journal is on');
      // Same journal, same runs: equal to the last digit to the run without a journal.
      assert.equal(j.dir, reports[0]?.diagnostics.journal?.dir);
      assert.deepEqual(r.rows.map((x) => [x.index, x.actual]), reference.rows.map((x) => [x.index, x.actual]));
      assert.deepEqual(r.testLoss, reference.testLoss);
      assert.deepEqual(r.correlations, reference.correlations);
      return runs - j.resumedRuns - (j.sharedRuns ?? 0);
    });
    // Claims are exclusive: between them, the two processes ran every run exactly once.
    assert.equal((ownRuns[0] ?? 0) + (ownRuns[1] ?? 0), runs, `runs computed per process: ${ownRuns.join(', ')}`);
    const entries = await fs.readdir(reports[0]?.diagnostics.journal?.dir as string);
    assert.deepEqual(entries.filter((f) => !f.endsWith('.json')), [], 'no claim left behind');
    process.stderr.write(`two processes sharing a check: ${ownRuns.join(' + ')} of ${runs} runs\n`);
  });

  test('--jobs 2: a helper process shares the runs, the report is the one process\'s; --jobs needs the cache', async () => {
    const { args, reference, env } = await checkAlone('jobs', 6, 8);
    const run = await msifAsync([...args, '--jobs', '2'], env, 180_000);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as ValidateReport;
    assert.deepEqual(report.rows.map((x) => [x.index, x.actual]), reference.rows.map((x) => [x.index, x.actual]));
    assert.deepEqual(report.correlations, reference.correlations);
    assert.match(run.stderr, /^validate: 1 helper process \(pid \d+\) share the runs, \d+ BLAS thread\(s\) each$/m);
    assert.doesNotMatch(run.stderr, /helper process 1 .*exited/, 'the helper is stopped, not failed');
    const dir = report.diagnostics.journal?.dir as string;
    const entries = await fs.readdir(dir);
    assert.equal(entries.filter((f) => f.endsWith('.json')).length, reference.rows.length + 2, 'every run in the journal');
    assert.deepEqual(entries.filter((f) => !f.endsWith('.json')), [], 'no claim left behind');

    const off = msif([...args, '--jobs', '2'], 60_000);
    assert.equal(off.status, 2, 'a usage error with the cache off (the suite runs with MSIF_CACHE=off)');
    assert.match(off.stderr, /--jobs 2 shares the runs through the run journal, and the cache is off/);
  });

  test('the example workspace, small N: runs, writes --out, summarises, flags the unconverged retraining', async () => {
    const out = path.join(tmp, 'validate.json');
    const started = Date.now();
    const run = msif(['validate', '--config', EXAMPLE, '--sample', '4', '--max-iterations', '10', '--backend', 'wasm', '--out', out], 540_000);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(await fs.readFile(out, 'utf8')) as ValidateReport;
    assertWellFormed(report, 4);
    assert.equal(report.pretrainCount, 2000);
    assert.equal(report.test.length, 100, 'default --test all');
    assert.equal(report.settings.retrain.objective, 'response');
    assert.deepEqual(report.settings.retrain.proximal, { pretrain: 0.03, finetune: 0.001 }, "the example's dampings");
    assert.ok(report.diagnostics.warnings.some((w) => /retraining runs stopped before/.test(w)));
    assert.match(run.stdout, /^influence \(−I\/m\) /m);
    assert.match(run.stdout, new RegExp(`Full report: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    process.stderr.write(`msif validate on the example (N = 4, 10 steps): ${seconds.toFixed(0)} s wall\n`);
  });
});
