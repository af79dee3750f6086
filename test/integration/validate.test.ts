/**
 * The leave-one-out check (`runValidate`) on tiny converged workspaces, against the
 * float64 reference: the engine's retraining (L-BFGS over float32 tfjs gradients) must
 * give the change of the test loss that re-solving both stages by Newton/LM in float64
 * gives, and the influence predictions must correlate with it.
 *
 * Tolerances (measured on these fixtures, then given margin):
 * - actual ΔL against the float64 re-solve: 1.2e-3 relative measured with the plain
 *   objective (L-BFGS stops at ‖∇‖ ≤ 1e-7 over float32 gradients; the distance to the
 *   minimiser is ≤ ‖∇‖/λ_min with λ_min ≈ 1e-3 here), 1e-4 with the proximal one (its μ
 *   conditions the problem): asserted at 1e-2 relative.
 * - Pearson r on the random half: 0.9997 (mlp, Case 1, plain) and 0.9999 (cnn, Case 2,
 *   proximal λ = 0.01) measured: asserted ≥ 0.99. The identity-Hessian baseline gave
 *   r = −0.10 on the same random half (asserted < 0.9).
 * - `response` objective, weights moved off the minimum: actual ΔL within 1.6e-5 (Case 1)
 *   and 2.7e-4 (Case 2) relative of the float64 anchored re-solve, asserted at 2e-3; the
 *   same re-solve without the anchor differs by 7e-4 to 0.36, so the assertion tells the
 *   two objectives apart. r(random) 0.9995 and 0.99994.
 * - `response` with the squared damping form (the stationary response, ½‖∇‖² + proximal):
 *   within 3e-4–8e-4 (Case 1) and 2.1e-3 (Case 2) relative of the float64 Gauss–Newton/LM
 *   re-solve, asserted at 1e-2: Φ squares the condition number, and L-BFGS over float32
 *   gradients stops ('line-search') near ‖∇Φ‖ ≈ 1e-6, 2e-4 of its start. r(random) 0.9999.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { initBackend } from '../../src/worker/backend';
import { runValidate } from '../../src/worker/validateJob';
import type { ValidateReport, ValidateRow } from '../../src/protocol/validateReport';
import { seededRandom } from '../../src/engine/influence/sampling';
import { buildTinyWorkspace } from '../fixtures/tinyWorkspaces';
import { makeCleanseWorkspace } from '../fixtures/cleanseWorkspace';
import { runTrain } from '../../src/worker/jobs';
import { loadReferenceWorkspace } from '../reference/referenceWorkspace';
import { retrainedTestLoss } from '../reference/retrain';
import { proximalRetrainedTestLoss } from '../reference/proximalRetrain';

/** Sample structure every report must have: ⌊N/2⌋ top-|score| rows first, then random ones. */
function assertSampleShape(r: ValidateReport, n: number): void {
  assert.equal(r.rows.length, n);
  const top = r.rows.filter((x) => x.sample === 'top');
  const random = r.rows.filter((x) => x.sample === 'random');
  assert.equal(top.length, Math.floor(n / 2));
  assert.equal(random.length, n - Math.floor(n / 2));
  const minTop = Math.min(...top.map((x) => Math.abs(x.score)));
  assert.ok(random.every((x) => Math.abs(x.score) <= minTop), 'top rows have the largest |score|');
  assert.equal(new Set(r.rows.map((x) => x.index)).size, n, 'no example twice');
  for (const x of r.rows) assert.equal(x.predicted, -x.score / r.pretrainCount);
}

/**
 * Adds seeded uniform noise of ± `amplitude` to the weights of one stage's saved model
 * (float32, one bin file per group), all of them or (`headOnly`) those outside the shared
 * layers W, which keeps a Case 1 pair consistent (the finetuned W is the pretrained W̄).
 */
async function perturbWeights(msifPath: string, stage: 'pretrain' | 'finetune', amplitude: number, seed: number, headOnly = false): Promise<void> {
  const config = JSON.parse(await fs.readFile(msifPath, 'utf8')) as Record<typeof stage, { model: string }> & { sharedLayers: string[] };
  const modelJson = path.join(path.dirname(msifPath), config[stage].model);
  const manifest = JSON.parse(await fs.readFile(modelJson, 'utf8')) as { weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[] };
  const r = seededRandom(seed);
  for (const group of manifest.weightsManifest) {
    assert.equal(group.paths.length, 1, 'one file per weight group');
    const bin = path.join(path.dirname(modelJson), group.paths[0] as string);
    const bytes = await fs.readFile(bin);
    const w = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const shared = config.sharedLayers.includes(spec.name.split('/')[0] as string);
      if (!(headOnly && shared)) for (let i = offset; i < offset + size; i++) w[i] = (w[i] as number) + amplitude * (r() * 2 - 1);
      offset += size;
    }
    assert.equal(offset, w.length);
    await fs.writeFile(bin, Buffer.from(w.buffer));
  }
}

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('leave-one-out check against float64 retraining', () => {
  let root: string;
  before(async () => {
    await initBackend('wasm');
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-validate-'));
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('plain objective (mlp, Case 1): actual ΔL matches the float64 re-solve; r on the random half ≥ 0.99', async () => {
    const built = await buildTinyWorkspace(path.join(root, 'mlp-fixed'), { kind: 'mlp', case: 'fixed', seed: 1 });
    const report = await runValidate(built.msifPath, { sample: 8, test: '0', retrain: { objective: 'plain', gradientTolerance: 1e-7, maxIterations: 500 } });
    assertSampleShape(report, 8);
    assert.equal(report.diagnostics.unconvergedRuns, 0, JSON.stringify(report.diagnostics.warnings));
    assert.deepEqual(report.settings.retrain.proximal, { pretrain: 0, finetune: 0 });

    const ws = loadReferenceWorkspace(built.msifPath);
    const m = ws.pretrain.train.length;
    const base = retrainedTestLoss(ws, { pretrainIndex: 0, epsilon: 0, testIndices: [0] });
    for (const row of [report.rows[0], report.rows[7]] as ValidateRow[]) {
      // Removing z: weight 1/m − 1/m = 0 on z; the argmin is that of the mean over Z \ {z}.
      const ref = retrainedTestLoss(ws, { pretrainIndex: row.index, epsilon: -1 / m, testIndices: [0] }) - base;
      assert.ok(relErr(row.actual, ref) <= 1e-2, `example ${row.index} (${row.sample}): engine ΔL ${row.actual}, float64 ${ref}`);
    }

    const c = report.correlations;
    assert.ok((c.influence.random.pearson ?? -1) >= 0.99, `r(random) = ${c.influence.random.pearson}`);
    assert.ok((c.influence.top.pearson ?? -1) >= 0.95, `r(top) = ${c.influence.top.pearson}`);
    assert.ok((c.identity.random.pearson ?? 1) < 0.9, `identity r(random) = ${c.identity.random.pearson}`);
    assert.equal(c.influence.all.n, 8);
    // The saved weights are a float64 stationary point: both no-removal runs stay there.
    assert.ok(report.noiseFloor.spread <= 1e-9, `spread ${report.noiseFloor.spread}`);
    assert.deepEqual(report.noiseFloor.comparable, { all: false, top: false, random: false });
    assert.deepEqual(report.diagnostics.warnings, []);
  });

  it('proximal objective (cnn, Case 2, λ = 0.01): actual ΔL matches the float64 proximal re-solve', async () => {
    const built = await buildTinyWorkspace(path.join(root, 'cnn-updated'), { kind: 'cnn', case: 'updated', seed: 1 });
    const lambda = 0.01;
    const report = await runValidate(built.msifPath, {
      sample: 8,
      test: '0',
      overrides: { pretrainDamping: lambda, finetuneDamping: lambda },
      retrain: { objective: 'proximal', gradientTolerance: 1e-7, maxIterations: 500 },
    });
    assertSampleShape(report, 8);
    assert.equal(report.case, 'updated');
    assert.deepEqual(report.settings.retrain.proximal, { pretrain: lambda, finetune: lambda });
    assert.equal(report.diagnostics.unconvergedRuns, 0);

    const ws = loadReferenceWorkspace(built.msifPath);
    const m = ws.pretrain.train.length;
    const options = { testIndices: [0], case: 'updated' as const, alpha: ws.alpha, pretrainProximal: lambda, finetuneProximal: lambda };
    const base = proximalRetrainedTestLoss(ws, { ...options, pretrainIndex: 0, epsilon: 0 });
    for (const row of [report.rows[0], report.rows[7]] as ValidateRow[]) {
      const ref = proximalRetrainedTestLoss(ws, { ...options, pretrainIndex: row.index, epsilon: -1 / m }) - base;
      assert.ok(relErr(row.actual, ref) <= 1e-2, `example ${row.index} (${row.sample}): engine ΔL ${row.actual}, float64 ${ref}`);
    }
    assert.ok((report.correlations.influence.random.pearson ?? -1) >= 0.99, `r(random) = ${report.correlations.influence.random.pearson}`);
  });

  // The response objective follows the damping form: the minimiser (plain), the stationary point (squared).
  for (const form of ['plain', 'squared'] as const) {
    for (const kase of ['fixed', 'updated'] as const) {
      const what = form === 'plain' ? 'the damped minimum' : 'the stationary response';
      it(`response objective, ${form} damping form (mlp, Case ${kase === 'fixed' ? 1 : 2}, weights off the minimum): the base run takes no step; ${what} matches the float64 re-solve`, async () => {
        const built = await buildTinyWorkspace(path.join(root, `mlp-response-${form}-${kase}`), { kind: 'mlp', case: kase, seed: 1 });
        // Not a stationary point of either stage: the response is taken at the weights as they are.
        // In Case 1 the heads only: the finetuned W must stay the pretrained W̄.
        await perturbWeights(built.msifPath, 'pretrain', 0.02, 11, kase === 'fixed');
        await perturbWeights(built.msifPath, 'finetune', 0.02, 12, kase === 'fixed');
        const config = JSON.parse(await fs.readFile(built.msifPath, 'utf8')) as { influence: Record<string, unknown> };
        config.influence['dampingForm'] = form;
        await fs.writeFile(built.msifPath, JSON.stringify(config, null, 2));
        const lambda = 0.01;
        const report = await runValidate(built.msifPath, {
          sample: 8,
          test: '0',
          overrides: { pretrainDamping: lambda, finetuneDamping: lambda },
          retrain: { gradientTolerance: form === 'plain' ? 1e-7 : 1e-9, maxIterations: 500 },
        });
        assertSampleShape(report, 8);
        assert.equal(report.settings.retrain.objective, 'response', 'the default objective');
        assert.equal(report.settings.retrain.response, form === 'plain' ? 'minimum' : 'stationary');
        assert.deepEqual(report.settings.retrain.proximal, { pretrain: lambda, finetune: lambda });
        assert.ok(!report.diagnostics.warnings.some((w) => /estimates something else/.test(w)), 'no damping-form mismatch');
        if (form === 'plain') assert.equal(report.diagnostics.unconvergedRuns, 0, JSON.stringify(report.diagnostics.warnings));
        // Anchored: the saved weights are the minimiser with nothing removed, to the last bit.
        const base = report.retrain.base;
        assert.equal(base.pretrain.iterations + base.finetune.iterations, 0);
        assert.equal(base.pretrain.initialGradientNorm, 0);
        assert.equal(report.testLoss.base, report.testLoss.saved);

        const ws = loadReferenceWorkspace(built.msifPath);
        const m = ws.pretrain.train.length;
        const options = { testIndices: [0], case: kase, alpha: ws.alpha, pretrainProximal: lambda, finetuneProximal: lambda, anchored: true, stationary: form === 'squared' };
        const saved = proximalRetrainedTestLoss(ws, { ...options, pretrainIndex: 0, epsilon: 0 });
        for (const row of [report.rows[0], report.rows[1], report.rows[7]] as ValidateRow[]) {
          const ref = proximalRetrainedTestLoss(ws, { ...options, pretrainIndex: row.index, epsilon: -1 / m }) - saved;
          assert.ok(relErr(row.actual, ref) <= (form === 'plain' ? 2e-3 : 1e-2), `example ${row.index} (${row.sample}): engine ΔL ${row.actual}, float64 ${ref}`);
        }
        assert.ok((report.correlations.influence.random.pearson ?? -1) >= 0.99, `r(random) = ${report.correlations.influence.random.pearson}`);
      });
    }
  }

  it('response objective: runs that leave the saved weights\' neighbourhood are counted and explained (untrained model), none on the trained one', async () => {
    // The cleansing fixture's linear bottleneck, as initialised (Glorot) and after `msif train`:
    // at the initial weights the coupling of W and the head makes H + λI (λ = 1e-3) indefinite,
    // so removing an example sends L-BFGS down to a trained minimum, with ‖∇‖ far above its start.
    const check = async (trained: boolean) => {
      const dir = path.join(root, `departed-${trained}`);
      const { msifPath } = await makeCleanseWorkspace(dir, { seed: 5, pretrainCount: 60, finetuneCount: 40, testCount: 20, epochs: 150 });
      if (trained) await runTrain(msifPath, {});
      return runValidate(msifPath, { sample: 4, test: '0', overrides: { pretrainDamping: 1e-3, finetuneDamping: 1e-3 }, retrain: { gradientTolerance: 1e-7, maxIterations: 300 } });
    };
    const untrained = await check(false);
    assert.ok((untrained.diagnostics.departedRuns ?? 0) >= 1, `departed ${untrained.diagnostics.departedRuns}`);
    assert.ok(untrained.diagnostics.warnings.some((w) => /left it .*not positive definite/.test(w)), untrained.diagnostics.warnings.join('\n'));
    assert.ok(untrained.rows.some((r) => (r.retrain.pretrain.maxGradientNorm ?? 0) > 10 * r.retrain.pretrain.initialGradientNorm));
    const trained = await check(true);
    assert.equal(trained.diagnostics.departedRuns, 0, trained.diagnostics.warnings.join('\n'));
  });

  it('leave-one-out runs started at the base run\'s end reach the same changes in fewer steps', async () => {
    const built = await buildTinyWorkspace(path.join(root, 'mlp-start'), { kind: 'mlp', case: 'fixed', seed: 1 });
    // Saved weights off the minimum (as after a few epochs of training), so that the base run has somewhere to go.
    await perturbWeights(built.msifPath, 'pretrain', 0.05, 5);
    const run = (start: 'base' | 'saved') => runValidate(built.msifPath, { sample: 6, test: '0', retrain: { objective: 'plain', gradientTolerance: 1e-7, maxIterations: 500, start } });
    const fromBase = await run('base');
    const fromSaved = await run('saved');
    assert.equal(fromBase.settings.retrain.start, 'base');
    assert.equal(fromSaved.settings.retrain.start, 'saved');
    assert.equal(fromBase.diagnostics.unconvergedRuns, 0);
    assert.equal(fromSaved.diagnostics.unconvergedRuns, 0);
    // Both converge to ‖∇‖ ≤ 1e-7 on the same objective: the same minimiser, up to the
    // tolerance's effect on the test loss (1e-2 of the largest change, as above).
    const scale = Math.max(...fromSaved.rows.map((r) => Math.abs(r.actual)));
    fromBase.rows.forEach((r, k) => {
      const other = fromSaved.rows[k] as ValidateRow;
      assert.equal(r.index, other.index);
      assert.ok(Math.abs(r.actual - other.actual) <= 1e-2 * scale, `example ${r.index}: ${r.actual} from the base run's end, ${other.actual} from the saved weights`);
    });
    const steps = (rows: readonly ValidateRow[]): number => rows.reduce((a, r) => a + r.retrain.pretrain.iterations + r.retrain.finetune.iterations, 0);
    assert.ok(steps(fromBase.rows) < steps(fromSaved.rows), `L-BFGS steps: ${steps(fromBase.rows)} from the base run's end, ${steps(fromSaved.rows)} from the saved weights`);
  });
  it('leave-one-out runs from the base run\'s end resolve their perturbation even when it is below the absolute tolerance', async () => {
    const built = await buildTinyWorkspace(path.join(root, 'mlp-relative'), { kind: 'mlp', case: 'fixed', seed: 1 });
    const run = (gradientTolerance: number) => runValidate(built.msifPath, { sample: 8, test: '0', retrain: { objective: 'proximal', gradientTolerance, maxIterations: 500, start: 'base' } });
    const tight = await run(1e-7);
    // A loose absolute tolerance, above −∇g(z)/m of every sampled example: only the relative
    // rule (‖∇‖ ≤ 1% of the start) keeps a leave-one-out run from stopping where it starts.
    const loose = await run(1e-2);
    const scale = Math.max(...tight.rows.map((r) => Math.abs(r.actual)));
    loose.rows.forEach((r, k) => {
      const ref = tight.rows[k] as ValidateRow;
      assert.equal(r.index, ref.index);
      assert.ok(r.retrain.pretrain.iterations >= 1, `example ${r.index}: ${r.retrain.pretrain.iterations} pretraining steps from the base end (start ‖∇‖ ${r.retrain.pretrain.initialGradientNorm})`);
      // 1% of the perturbation resolved, around a base run stopped at ‖∇‖ ≤ 1e-2 instead of 1e-7: 10% of the largest change.
      assert.ok(Math.abs(r.actual - ref.actual) <= 0.1 * scale, `example ${r.index}: actual ${r.actual} (loose) vs ${ref.actual} (tight)`);
    });
    assert.ok(loose.rows.some((r) => r.retrain.pretrain.initialGradientNorm < 1e-2), 'some perturbation starts below the absolute tolerance (else this test shows nothing)');
  });

  it('a stopped check resumes from its journal: finished runs are read back, the rows equal a run without it', async () => {
    const built = await buildTinyWorkspace(path.join(root, 'mlp-journal'), { kind: 'mlp', case: 'fixed', seed: 3 });
    const options = { sample: 4, test: '0', retrain: { objective: 'plain' as const, gradientTolerance: 1e-7, maxIterations: 500 } };
    const saved = { cache: process.env['MSIF_CACHE'], dir: process.env['MSIF_CACHE_DIR'] };
    const cacheDir = path.join(root, 'journal-cache');
    try {
      // Without a journal (the cache off, as in the rest of the suite): the reference rows.
      process.env['MSIF_CACHE'] = 'off';
      const reference = await runValidate(built.msifPath, options);
      assert.equal(reference.diagnostics.journal, null);

      delete process.env['MSIF_CACHE'];
      process.env['MSIF_CACHE_DIR'] = cacheDir;
      // Stopped once the base, the noise run and the first leave-one-out run are done.
      const abort = new AbortController();
      let finished = 0;
      await assert.rejects(
        runValidate(built.msifPath, options, {
          signal: abort.signal,
          log: (line) => {
            if (/^validate: (base|noise|without)/.test(line) && ++finished === 3) abort.abort();
          },
        }),
        (e: Error) => /cancel/i.test(e.name + e.message),
      );
      const resumed = await runValidate(built.msifPath, options);
      assert.equal(resumed.diagnostics.journal?.resumedRuns, 3, 'base, noise and the first row come from the journal');
      // The same runs, deterministic on one backend: equal to the last digit.
      assert.deepEqual(resumed.rows.map((r) => [r.index, r.actual]), reference.rows.map((r) => [r.index, r.actual]));
      assert.deepEqual(resumed.testLoss, reference.testLoss);
      // The random-score baseline is seeded and drawn in row order: the same draws.
      assert.deepEqual(resumed.rows.map((r) => r.randomPredicted), reference.rows.map((r) => r.randomPredicted));

      // Again: every run from the journal; a damaged entry is run again, with the same result.
      const dir = resumed.diagnostics.journal?.dir as string;
      const entries = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
      assert.deepEqual(entries, ['base.json', 'noise.json', ...resumed.rows.map((r) => `without-${r.index}.json`)].sort());
      await fs.writeFile(path.join(dir, `without-${(resumed.rows[1] as ValidateRow).index}.json`), '{"format":"msif-retrain-1","testLoss":');
      const again = await runValidate(built.msifPath, options);
      assert.equal(again.diagnostics.journal?.resumedRuns, 2 + options.sample - 1);
      assert.deepEqual(again.rows.map((r) => [r.index, r.actual]), reference.rows.map((r) => [r.index, r.actual]));

      // Another setting is another journal.
      const other = await runValidate(built.msifPath, { ...options, seed: 99 });
      assert.notEqual(other.diagnostics.journal?.dir, dir);
      assert.equal(other.diagnostics.journal?.resumedRuns, 0);
    } finally {
      for (const [k, v] of [['MSIF_CACHE', saved.cache], ['MSIF_CACHE_DIR', saved.dir]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it("takes over the runs that another process held and let go unfinished, or held when it died", async () => {
    const built = await buildTinyWorkspace(path.join(root, 'mlp-takeover'), { kind: 'mlp', case: 'fixed', seed: 5 });
    const options = { sample: 4, test: '0', retrain: { objective: 'plain' as const, gradientTolerance: 1e-7, maxIterations: 500 } };
    const saved = { cache: process.env['MSIF_CACHE'], dir: process.env['MSIF_CACHE_DIR'] };
    // Another process on this host, holding claims (its pid answers until it is killed).
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const otherExited = new Promise<void>((resolve) => other.once('exit', () => resolve()));
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      for (const started = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() - started > 120_000) assert.fail(`waited 120 s for ${what}`);
      }
    };
    try {
      delete process.env['MSIF_CACHE'];
      process.env['MSIF_CACHE_DIR'] = path.join(root, 'takeover-cache');
      // The check once, alone: the reference rows, and where its journal is.
      const reference = await runValidate(built.msifPath, options);
      const journalDir = reference.diagnostics.journal?.dir as string;
      await fs.rm(journalDir, { recursive: true });

      // The other process holds the base run and the second leave-one-out run.
      const held = `without example ${(reference.rows[1] as ValidateRow).index} `;
      await fs.mkdir(journalDir, { recursive: true });
      for (const key of ['base', `without-${(reference.rows[1] as ValidateRow).index}`]) {
        await fs.writeFile(path.join(journalDir, `${key}.claim`), JSON.stringify({ pid: other.pid, host: os.hostname(), since: new Date().toISOString() }));
      }
      const lines: string[] = [];
      let finished = false;
      const running = runValidate(built.msifPath, options, { log: (line) => lines.push(line) }).finally(() => (finished = true));
      const ran = (label: string) => lines.some((l) => l.startsWith(`validate: ${label}`));
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(!ran('base'), 'the base run waits for its holder');
      // It lets go of the base run unfinished: this process takes it, then every run but the held one.
      await fs.rm(path.join(journalDir, 'base.claim'));
      await until('the runs nobody holds', () => ran('base') && ran('noise') && reference.rows.every((r) => ran(`without example ${r.index} `) === !held.includes(` ${r.index} `)));
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(finished, false, 'the run held by a live process is waited for');
      // The holder dies: its run is taken over.
      other.kill();
      await otherExited;
      const report = await running;
      assert.ok(ran(held));
      assert.deepEqual(report.rows.map((r) => [r.index, r.actual]), reference.rows.map((r) => [r.index, r.actual]));
      assert.deepEqual([report.diagnostics.journal?.resumedRuns, report.diagnostics.journal?.sharedRuns], [0, 0], 'every run was run here in the end');
      assert.deepEqual((await fs.readdir(journalDir)).filter((f) => f.endsWith('.claim')), []);
    } finally {
      other.kill();
      for (const [k, v] of [['MSIF_CACHE', saved.cache], ['MSIF_CACHE_DIR', saved.dir]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
