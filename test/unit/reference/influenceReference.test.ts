/**
 * THE RETRAINING CHECK: the float64 reference influence I(z, xt) (contract §1, plain
 * damping, λ_p = λ_f = 1e-8) equals the derivative of the retrained test loss, for each
 * tiny workspace kind and both cases. The retrained loss up-weights pretraining example z
 * by ±ε, re-solves pretraining and then finetuning (Case 1: Θ with W fixed; Case 2: the
 * proximal surrogate) to ‖∇‖ < 1e-11 by Newton/LM, and takes the central difference.
 *
 * Tolerance: |I − FD| ≤ 1e-3 · max(|I|, |FD|, 1e-2 · max_z |I(z)|), with ε = 1e-4.
 * - Central-difference truncation ε²/6 · |L'''|/|L'| was measured at ~2e-3 relative for
 *   ε = 1e-3 and ~2e-5 for ε = 1e-4 (it scales as ε²).
 * - The influence is evaluated at the float32-rounded saved weights, not at the exact
 *   float64 minimiser the retraining starts from: a relative parameter error of 6e-8,
 *   amplified by κ(∂²G) ≤ 1e4 (the fixtures refuse worse), gives ≤ 1e-4 at worst.
 * - The damping λ = 1e-8 biases by λ/λ_min ≤ 1e-8/1e-4 = 1e-4 at worst.
 * - A re-solve to ‖∇‖ < 1e-11 errs by ≤ 1e-11/λ_min in θ, i.e. ≤ 1e-7/2ε = 5e-4 in the
 *   quotient at the very worst; Newton's last step usually lands far below the threshold.
 * Measured agreement: 2e-7 … 3e-5. A sign error, a missing term of eq. 10 or 15, or a
 * wrong block of the Hessian is off by O(1).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTinyWorkspace, makeTinyWorkspace, type TinyKind, type TinyWorkspaceReport } from '../../fixtures/tinyWorkspaces';
import { referenceInfluence } from '../../reference/influenceReference';
import { loadReferenceWorkspace } from '../../reference/referenceWorkspace';
import { retrainedTestLoss, retrainingInfluence } from '../../reference/retrain';

const kinds: readonly TinyKind[] = ['mlp', 'cnn', 'embedding'];
const cases = ['fixed', 'updated'] as const;
/** The first three test points (scores are summed over them). */
const testIndices = [0, 1, 2];
let root: string;
const reports = new Map<string, TinyWorkspaceReport>();

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-reference-'));
  for (const kind of kinds) {
    for (const c of cases) reports.set(`${kind}/${c}`, await buildTinyWorkspace(path.join(root, `${kind}-${c}`), { kind, case: c, seed: 1 }));
  }
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

function report(kind: TinyKind, c: (typeof cases)[number]): TinyWorkspaceReport {
  const r = reports.get(`${kind}/${c}`);
  if (r === undefined) throw new Error(`no workspace ${kind}/${c}`);
  return r;
}

describe('tiny workspaces', () => {
  for (const kind of kinds) {
    it(`${kind}: stages solved to ‖∇‖ < 1e-11, ∂²G positive definite, W shared as the case says`, () => {
      for (const c of cases) {
        const r = report(kind, c);
        assert.ok(r.pretrainGradientNorm < 1e-11 && r.finetuneGradientNorm < 1e-11, `${c}: gradient norms`);
        const ev = r.pretrainEigenvalues;
        // mse pretraining: no null space, so the smallest eigenvalue itself must be positive.
        assert.equal(r.pretrainNullDimension, 0);
        assert.ok((ev[0] as number) > 1e-4 * (ev[ev.length - 1] as number), `${c}: λ_min ${ev[0]} vs λ_max ${ev[ev.length - 1]}`);
        const ws = loadReferenceWorkspace(r.msifPath);
        const wPre = ws.sharedInPretrain.map((i) => ws.pretrain.savedParams[i] as number);
        const wFin = ws.sharedInFinetune.map((i) => ws.finetune.savedParams[i] as number);
        if (c === 'fixed') assert.deepEqual(wFin, wPre, 'Case 1 keeps W');
        else assert.ok(wFin.some((v, i) => v !== wPre[i]), 'Case 2 moves W');
      }
    });
  }
});

describe('makeTinyWorkspace', () => {
  it('is deterministic: a rebuild from scratch writes the same bytes', async () => {
    // A different α is a different cache key, so data and both stages are drawn and solved
    // again; Case 1 and the pretraining stage do not depend on α, so every file but
    // msif.json must come out byte-identical.
    const first = path.dirname(report('mlp', 'fixed').msifPath);
    const second = path.dirname(await makeTinyWorkspace(path.join(root, 'mlp-fixed-again'), { kind: 'mlp', case: 'fixed', seed: 1, alpha: 0.2 }));
    const files = ['pretrain/model.json', 'pretrain/weights.bin', 'finetune/model.json', 'finetune/weights.bin'];
    files.push('data/pretrain.jsonl', 'data/finetune_train.jsonl', 'data/finetune_test.jsonl');
    for (const f of files) assert.ok(fs.readFileSync(path.join(first, f)).equals(fs.readFileSync(path.join(second, f))), f);
  });
});

describe('reference influence vs retraining (central difference, ε = 1e-4)', () => {
  for (const kind of kinds) {
    for (const c of cases) {
      it(`${kind}, ${c === 'fixed' ? 'Case 1 (embedding fixed)' : 'Case 2 (embedding updated)'}`, () => {
        const ws = loadReferenceWorkspace(report(kind, c).msifPath);
        const influence = referenceInfluence(ws, { testIndices, pretrainDamping: 1e-8, finetuneDamping: 1e-8 });
        const largest = influence.scores.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        for (const z of [0, 7, 100]) {
          const fd = retrainingInfluence(ws, { pretrainIndex: z, epsilon: 1e-4, testIndices });
          const score = influence.scores[z] as number;
          const scale = Math.max(Math.abs(score), Math.abs(fd), 1e-2 * largest);
          assert.ok(Math.abs(score - fd) <= 1e-3 * scale, `z = ${z}: I = ${score}, retraining gives ${fd}`);
        }
      });
    }
  }

  it('the saved finetuned model is the ε = 0 re-solve (Case 2 surrogate minimiser)', () => {
    for (const kind of kinds) {
      const ws = loadReferenceWorkspace(report(kind, 'updated').msifPath);
      const saved = ws.finetune.test.slice(0, testIndices.length).reduce((s, example) => s + ws.finetune.net.exampleLoss(ws.finetune.savedParams, example), 0);
      const resolved = retrainedTestLoss(ws, { pretrainIndex: 0, epsilon: 0, testIndices });
      // Differs only by the float32 rounding of the saved weights (∇f · δθ ≈ 1e-7).
      assert.ok(Math.abs(saved - resolved) <= 1e-5 * Math.max(1, Math.abs(saved)), `${kind}: ${saved} vs ${resolved}`);
    }
  });
});

describe('reference influence: structure', () => {
  it('Case 1 splits into the direct and the through-head terms (eq. 10)', () => {
    const ws = loadReferenceWorkspace(report('mlp', 'fixed').msifPath);
    const r = referenceInfluence(ws, { testIndices });
    const direct = r.direct as Float64Array;
    const throughHead = r.throughHead as Float64Array;
    r.scores.forEach((s, z) => assert.ok(Math.abs(s - (direct[z] as number) - (throughHead[z] as number)) <= 1e-12 * Math.max(1, Math.abs(s))));
    assert.ok(direct.some((v) => v !== 0) && throughHead.some((v) => v !== 0));
  });

  it('scores of a set of test points are the sums of their scores (eq. 8)', () => {
    for (const c of cases) {
      const ws = loadReferenceWorkspace(report('embedding', c).msifPath);
      const together = referenceInfluence(ws, { testIndices }).scores;
      const apart = testIndices.map((t) => referenceInfluence(ws, { testIndices: [t] }).scores);
      together.forEach((s, z) => {
        const sum = apart.reduce((acc, a) => acc + (a[z] as number), 0);
        assert.ok(Math.abs(s - sum) <= 1e-10 * Math.max(1, Math.abs(s)), `${c}, z = ${z}`);
      });
    }
  });

  it("the squared form (H² + λI)⁻¹H agrees with the plain form when λ ≪ λ_min² (eq. 16)", () => {
    // λ_min(∂²G) ≥ 1e-4·λ_max ≈ 3e-4 here, so λ = 1e-14 perturbs the squared form by
    // λ/λ_min² ≤ 1e-7, and λ = 1e-8 the plain form by λ/λ_min ≤ 3e-5.
    for (const c of cases) {
      const ws = loadReferenceWorkspace(report('cnn', c).msifPath);
      const plain = referenceInfluence(ws, { testIndices, pretrainDamping: 1e-8, finetuneDamping: 1e-8 }).scores;
      const squared = referenceInfluence(ws, { testIndices, pretrainDamping: 1e-14, finetuneDamping: 1e-14, dampingForm: 'squared' }).scores;
      const largest = plain.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      plain.forEach((p, z) => assert.ok(Math.abs(p - (squared[z] as number)) <= 1e-4 * largest, `${c}, z = ${z}: ${p} vs ${squared[z]}`));
    }
  });

  it('hessianExamples defaults to the whole pretraining set', () => {
    const ws = loadReferenceWorkspace(report('mlp', 'updated').msifPath);
    const all = ws.pretrain.train.map((_, i) => i);
    assert.deepEqual(Array.from(referenceInfluence(ws, { testIndices, hessianExamples: all }).scores), Array.from(referenceInfluence(ws, { testIndices }).scores));
  });
});
