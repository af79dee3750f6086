/**
 * The multi-stage influence function (Chen et al., "Multi-Stage Influence Function",
 * NeurIPS 2020): the influence of every pretraining example z on the test loss of a
 * finetuned model, through the finetuning stage and the shared embedding W.
 *
 * ## Notes
 * Symbols: W → shared parameters (`sharedLayers`), U → the pretraining head, Θ → the
 * finetuning head; G = mean pretraining loss, F = mean finetuning loss, f = test loss;
 * λ_p → `pretrainDamping`, λ_f → `finetuneDamping`, α → `alpha`.
 * Every case reduces to one finetune-side vector q_W, one pretraining inverse-HVP
 * s = (∂²G/∂(W,U)² + λ_p)⁻¹ [q_W; 0], and one forward-mode dot product per pretraining
 * example: I(z_i, xt) = −s · ∇_(W,U) g(z_i). Scores are linear in xt (eq. 8): a set of
 * test points costs the same as one.
 */
import * as tf from '@tensorflow/tfjs';
import { MsifError } from '../../common/errors';
import type { EmbeddingCase, InfluenceSettings, LossName } from '../../common/workspaceConfig';
import type { SolveDiagnostics } from '../../common/solveDiagnostics';
import { ParamBlock, accumulateGradient, directionalDerivatives } from '../autodiff/hessianVectorProduct';
import { BatchSet, forEachBatch } from '../batches';
import type { ExampleSource } from '../data';
import { norm } from '../linalg/vector';
import { perExampleLoss, predictions } from '../losses';
import type { Model } from '../model/model';
import { InverseHessian, MeanLossHessian, type SolveOptions } from './stageHessians';
import type { SymmetricOperator } from '../linalg/conjugateGradient';
import { sampleIndices } from './sampling';

export interface Stage {
  readonly model: Model;
  readonly loss: LossName;
  readonly train: ExampleSource;
}

export interface InfluenceProblem {
  readonly pretrain: Stage;
  readonly finetune: Stage;
  readonly sharedLayers: readonly string[];
  /** The selected test points (their losses are summed: eq. 8). */
  readonly test: BatchSet;
  readonly case: EmbeddingCase;
  readonly settings: InfluenceSettings;
}

export interface InfluenceProgress {
  readonly phase: 'finetune-ihvp' | 'pretrain-ihvp' | 'score' | 'prepare';
  readonly fraction: number;
  readonly message: string;
  readonly iteration?: number;
  readonly maxIterations?: number;
  readonly relativeResidual?: number;
}

export interface InfluenceOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: InfluenceProgress) => void;
  /** Replace every inverse Hessian by the identity: the paper's baseline (Fig. 3). */
  readonly identityHessians?: boolean;
  /** Solves kept from an earlier run with the same models, data and settings. */
  readonly cache?: InfluenceVectorCache;
}

/**
 * What the two solves produce, and all that scoring needs besides the pretraining set:
 * a caller may keep it (keyed by everything it depends on) and hand it back.
 */
export interface InfluenceVectors {
  /** s = (∂²G/∂(W,U)² + λ_p)⁻¹ [q_W; 0], over all pretraining parameters. */
  readonly s: Float64Array;
  /** Case 1 with the exact solver: the same for the ∇_W f term alone. */
  readonly sDirect?: Float64Array;
  readonly solves: SolveDiagnostics[];
  readonly hessianSampleCount: number;
  readonly gradientNorms: { readonly pretrain: number; readonly finetune: number };
}

/** A store for {@link InfluenceVectors}; the engine only calls it. */
export interface InfluenceVectorCache {
  load(): Promise<InfluenceVectors | undefined>;
  store(v: InfluenceVectors): Promise<void>;
}

export interface InfluenceResult {
  /** I(z_i, xt) summed over the test points, in pretraining dataset order. */
  readonly scores: Float64Array;
  /** Case 1 with the exact solver: the ∇_W f term and the term through Θ (eq. 11). */
  readonly breakdown?: { readonly direct: Float64Array; readonly throughHead: Float64Array };
  readonly solves: SolveDiagnostics[];
  readonly hessianSampleCount: number;
  readonly parameters: { readonly W: number; readonly U: number; readonly Theta: number };
  readonly gradientNorms: { readonly pretrain: number; readonly finetune: number };
  readonly warnings: string[];
  /** Whether the solves came from {@link InfluenceOptions.cache}. */
  readonly cached: boolean;
}

/** The parameter blocks W, U (pretraining model) and W, Θ (finetuning model), checked. */
export function splitParameters(pretrain: Model, finetune: Model, sharedLayers: readonly string[]): {
  preW: ParamBlock;
  preAll: ParamBlock;
  finW: ParamBlock;
  finTheta: ParamBlock;
  finAll: ParamBlock;
} {
  const shared = new Set(sharedLayers);
  for (const [m, role] of [
    [pretrain, 'pretrain'],
    [finetune, 'finetune'],
  ] as const) {
    const layers = new Set(m.graph.nodes.map((n) => n.layer.name));
    for (const s of sharedLayers) {
      if (!layers.has(s)) {
        throw new MsifError('config', `shared layer '${s}' is not in the ${role} model ${m.file}`, {
          field: 'sharedLayers',
          expected: `layer names present in both models (${role} has: ${[...layers].slice(1).join(', ')})`,
        });
      }
    }
  }
  const preW = ParamBlock.ofLayers(pretrain, shared);
  const finW = ParamBlock.ofLayers(finetune, shared);
  if (preW.size === 0) throw new MsifError('config', 'the shared layers have no trainable weights', { field: 'sharedLayers', expected: 'layers with weights (Dense, Conv2D, Embedding)' });
  const finByName = new Map(finW.specs.map((s) => [s.name, s]));
  for (const s of preW.specs) {
    const f = finByName.get(s.name);
    if (!f || f.shape.join() !== s.shape.join()) {
      throw new MsifError('config', `shared weight '${s.name}' is [${s.shape.join(', ')}] in the pretrain model but ${f ? `[${f.shape.join(', ')}]` : 'absent'} in the finetune model`, {
        field: 'sharedLayers',
        expected: 'equal weight names and shapes in both models',
      });
    }
  }
  if (finW.specs.map((s) => s.name).join() !== preW.specs.map((s) => s.name).join()) {
    throw new MsifError('config', 'the shared weights are in a different order in the two models', { field: 'sharedLayers', expected: 'the shared layers in the same order in both models' });
  }
  return {
    preW,
    preAll: ParamBlock.all(pretrain),
    finW,
    finTheta: ParamBlock.ofLayers(finetune, shared, true),
    finAll: ParamBlock.all(finetune),
  };
}

/**
 * Scores of every pretraining example for the selected test points.
 *
 * ```tex
 * \text{Case 1 (eq. 9–11):}\; I(z,x_t) = \big[\nabla_W f^\top - \nabla_\Theta f^\top (\partial^2_\Theta F)^{-1} \partial^2_{\Theta W} F\big]\, I_W(z),
 * \quad I_W(z) = -\big[(\partial^2_{(W,U)} G)^{-1} \nabla_{(W,U)}\, g(z)\big]_W \\
 * \text{Case 2 (eq. 13–15):}\; I(z,x_t) = -\nabla_{(\Theta,W)} f^\top K^{-1} \begin{bmatrix}0\\ 2\alpha I\end{bmatrix} \big[(\partial^2_{(W,U)} G)^{-1} \nabla g(z)\big]_W,
 * \quad K = \nabla^2_{(\Theta,W)} F + 2\alpha I_W
 * ```
 *
 * ## Method
 * Case 1: u = (∂²F/∂Θ² + λ_f)⁻¹ ∇_Θ f, q_W = ∇_W f − (∂²F/∂W∂Θ) u.
 * Case 2: r = (K + λ_f)⁻¹ ∇_(Θ,W) f, q_W = 2α r_W.
 * Then s = (∂²G/∂(W,U)² + λ_p)⁻¹ [q_W; 0] on `hessianSamples` seeded pretraining examples,
 * and I(z_i) = −s · ∇g(z_i), streamed over the pretraining set in batches.
 */
export async function influenceScores(p: InfluenceProblem, o: InfluenceOptions = {}): Promise<InfluenceResult> {
  const st = p.settings;
  const warnings: string[] = [];
  const blocks = splitParameters(p.pretrain.model, p.finetune.model, p.sharedLayers);
  const report = (phase: InfluenceProgress['phase'], lo: number, hi: number) => (it: number, max: number, rel: number) =>
    o.onProgress?.({
      phase,
      fraction: lo + (hi - lo) * Math.min(1, it / max),
      message: `${phase === 'pretrain-ihvp' ? 'pretraining' : 'finetuning'} ${Number.isNaN(rel) ? `Hessian column ${it}/${max}` : `CG ${it}/${max}, residual ${rel.toExponential(2)}`}`,
      iteration: it,
      maxIterations: max,
      relativeResidual: Number.isNaN(rel) ? undefined : rel,
    });

  if (p.case === 'fixed') {
    const diff = maxAbsDifference(blocks.preW.values(), blocks.finW.values());
    if (diff > 1e-6) {
      warnings.push(`The finetuned model's shared weights differ from the pretrained ones (max |ΔW| = ${diff.toExponential(2)}): the embedding was updated, so Case 2 ("updated") may describe this model better.`);
    }
  }

  // The two solves are the expensive part: reuse them when the caller has them cached.
  const loaded = await o.cache?.load();
  // An entry for other parameter counts (a cache gone wrong) is a miss, never a wrong answer.
  const cached = loaded && loaded.s.length === blocks.preAll.size && (!loaded.sDirect || loaded.sDirect.length === blocks.preAll.size) ? loaded : undefined;
  const v = cached ?? (await solveVectors());
  if (!cached) await o.cache?.store(v);
  const { s, sDirect, solves } = v;
  const { pretrain: pretrainGradNorm, finetune: finetuneGradNorm } = v.gradientNorms;

  // ---- scores: I(z_i) = −s · ∇g(z_i) for every pretraining example ----
  const m = p.pretrain.train.count;
  const scores = new Float64Array(m);
  const directScores = sDirect ? new Float64Array(m) : undefined;
  let done = 0;
  await forEachBatch(
    p.pretrain.model,
    p.pretrain.train,
    st.batchSize,
    (b) => {
      const d = directionalDerivatives(p.pretrain.loss, blocks.preAll, s, b).derivatives;
      const dd = sDirect ? directionalDerivatives(p.pretrain.loss, blocks.preAll, sDirect, b).derivatives : undefined;
      b.indices.forEach((idx, k) => {
        scores[idx] = -(d[k] as number);
        if (dd && directScores) directScores[idx] = -(dd[k] as number);
      });
      done += b.n;
      o.onProgress?.({ phase: 'score', fraction: 0.85 + 0.15 * (done / m), message: `scoring pretraining examples ${done}/${m}` });
    },
    o.signal,
  );

  for (const d of solves) {
    if (d.negativeCurvatureAt !== null) {
      warnings.push(
        `The ${d.system} system (H + ${d.damping}·I) is not positive definite${d.minEigenvalue !== undefined ? ` (smallest eigenvalue of H: ${d.minEigenvalue.toExponential(3)})` : ''}: increase ${d.system}Damping or use dampingForm "squared".`,
      );
    } else if (!d.converged) {
      warnings.push(`The ${d.system} solve did not converge: relative residual ${d.relativeResidual.toExponential(2)} after ${d.iterations} CG iterations. Scores are not final: raise cgIterations or ${d.system}Damping.`);
    }
  }
  for (const [stage, g] of [
    ['pretraining', pretrainGradNorm],
    ['finetuning', finetuneGradNorm],
  ] as const) {
    if (g > 1e-2) warnings.push(`The ${stage} gradient norm is ${g.toExponential(2)}: the model is not at a minimum, so influence estimates are less reliable.`);
  }

  return {
    scores,
    ...(directScores ? { breakdown: { direct: directScores, throughHead: scores.map((v, i) => v - (directScores[i] as number)) } } : {}),
    solves,
    hessianSampleCount: v.hessianSampleCount,
    cached: cached !== undefined,
    parameters: { W: blocks.preW.size, U: blocks.preAll.size - blocks.preW.size, Theta: blocks.finTheta.size },
    gradientNorms: { pretrain: pretrainGradNorm, finetune: finetuneGradNorm },
    warnings,
  };

  /** The finetune-side vector, then s = (∂²G + λ_p)⁻¹ [q_W; 0] (and Case 1's direct-term s). */
  async function solveVectors(): Promise<InfluenceVectors> {
    o.onProgress?.({ phase: 'prepare', fraction: 0, message: 'loading the finetuning set' });
    const finetuneSet = await BatchSet.load(p.finetune.model, p.finetune.train, st.batchSize, undefined, o.signal);
    const samples = sampleIndices(p.pretrain.train.count, st.hessianSamples, st.seed);
    let hessianSet: BatchSet | undefined;
    try {
      // ∇f(x_t) summed over the test points, on all finetuning parameters.
      const gTest = new Float64Array(blocks.finAll.size);
      for (const b of p.test.batches) accumulateGradient(p.finetune.loss, blocks.finAll, b, gTest);

      // ---- finetuning side: the vector q_W ----
      let qW: Float64Array;
      let direct: Float64Array | undefined;
      const solves: SolveDiagnostics[] = [];
      const finOptions = {
        system: 'finetune' as const,
        damping: st.finetuneDamping,
        dampingForm: st.dampingForm,
        solver: st.solver,
        maxIterations: st.cgIterations,
        tolerance: st.cgTolerance,
        signal: o.signal,
        onIteration: report('finetune-ihvp', 0.02, 0.3),
      };
      let finetuneGradNorm: number;
      if (p.case === 'fixed') {
        const hTheta = new MeanLossHessian(p.finetune.loss, blocks.finTheta, finetuneSet);
        // W is fixed: ∂²F/∂Θ² needs only the head, on features computed once (same numbers).
        const onFeatures = headOnFeatures(p.finetune.model, blocks.finTheta, finetuneSet);
        let u: Float64Array;
        try {
          const hHead = onFeatures ? new MeanLossHessian(p.finetune.loss, onFeatures.block, onFeatures.features) : hTheta;
          const gThetaF = onFeatures ? meanGradient(p.finetune.loss, onFeatures.block, onFeatures.features) : meanGradient(p.finetune.loss, blocks.finTheta, finetuneSet);
          finetuneGradNorm = norm(gThetaF);
          const solved = await inverseOf(hHead, finOptions, o).solve(blocks.finTheta.projectFrom(blocks.finAll, gTest));
          u = solved.x;
          solves.push(solved.diagnostics);
        } finally {
          onFeatures?.features.dispose();
        }
        const mixed = await hTheta.applyRows(blocks.finW, u, o.signal);
        direct = blocks.finW.projectFrom(blocks.finAll, gTest);
        qW = direct.map((d, i) => d - (mixed[i] as number));
      } else {
        const wMask = new Uint8Array(blocks.finAll.size);
        blocks.finW.indices.forEach((pi) => {
          const k = blocks.finAll.indices.indexOf(pi);
          const off = blocks.finAll.offsets[k] as number;
          wMask.fill(1, off, off + (blocks.finAll.specs[k]?.size ?? 0));
        });
        const kOp = new MeanLossHessian(p.finetune.loss, blocks.finAll, finetuneSet, 2 * st.alpha, wMask);
        // ∇ of the surrogate α‖W − W̄‖² + F: stationarity check of the finetuned model.
        const gF = meanGradient(p.finetune.loss, blocks.finAll, finetuneSet);
        const wBar = blocks.preW.values();
        const prox = blocks.finAll.projectFrom(blocks.finW, blocks.finW.values().map((w, i) => 2 * st.alpha * (w - (wBar[i] as number))));
        finetuneGradNorm = norm(gF.map((g, i) => g + (prox[i] as number)));
        const { x: r, diagnostics } = await inverseOf(kOp, finOptions, o).solve(gTest);
        solves.push(diagnostics);
        qW = blocks.finW.projectFrom(blocks.finAll, r).map((v) => 2 * st.alpha * v);
      }

      // ---- pretraining side: s = (∂²G + λ_p)⁻¹ [q_W; 0] ----
      o.onProgress?.({ phase: 'prepare', fraction: 0.3, message: `loading ${samples.length} pretraining examples for the Hessian` });
      hessianSet = await BatchSet.load(p.pretrain.model, p.pretrain.train, st.batchSize, samples, o.signal);
      const pretrainGradNorm = norm(meanGradient(p.pretrain.loss, blocks.preAll, hessianSet));
      const hG = new MeanLossHessian(p.pretrain.loss, blocks.preAll, hessianSet);
      const preInverse = inverseOf(hG, {
        system: 'pretrain',
        damping: st.pretrainDamping,
        dampingForm: st.dampingForm,
        solver: st.solver,
        maxIterations: st.cgIterations,
        tolerance: st.cgTolerance,
        signal: o.signal,
        onIteration: report('pretrain-ihvp', 0.32, 0.85),
      }, o);
      const { x: s, diagnostics } = await preInverse.solve(blocks.preAll.projectFrom(blocks.preW, qW));
      solves.push(diagnostics);
      // The split of Case 1's scores into its two terms costs a second solve: free with the
      // exact solver's decomposition, so it is reported only then.
      const sDirect = direct && preInverse.usesExact ? (await preInverse.solve(blocks.preAll.projectFrom(blocks.preW, direct))).x : undefined;

      return { s, ...(sDirect ? { sDirect } : {}), solves, hessianSampleCount: samples.length, gradientNorms: { pretrain: pretrainGradNorm, finetune: finetuneGradNorm } };
    } finally {
      finetuneSet.dispose();
      hessianSet?.dispose();
    }
  }
}

/**
 * The finetuning model's head Θ as a model of its own, with the finetuning set mapped
 * through the fixed trunk (the shared layers W and what follows them up to the first Θ
 * layer): Case 1's Θ-Hessian and Θ-gradient are the head's on these features. Undefined
 * when the layers do not split that way (a Θ layer before a W layer, or a head that reads
 * the trunk's inside); the caller then uses the whole model.
 *
 * ```tex
 * \partial^2 F/\partial\Theta^2 = \tfrac1n \textstyle\sum_i \partial^2_\Theta\, \ell\big(\mathrm{head}(h_i;\Theta), y_i\big), \quad h_i = \mathrm{trunk}(x_i; W)
 * ```
 */
function headOnFeatures(model: Model, theta: ParamBlock, data: BatchSet): { block: ParamBlock; features: BatchSet } | undefined {
  const thetaLayers = new Set(theta.specs.map((s) => s.layer));
  const first = model.graph.nodes.find((n) => thetaLayers.has(n.layer.name));
  const cut = first?.inbound[0];
  if (cut === undefined) return undefined;
  const split = model.splitAfter(cut);
  // The head's parameters must be exactly Θ, in Θ's order.
  if (!split || split.head.paramSpecs.length !== theta.indices.length || !theta.indices.every((pi, k) => pi === split.trunkParamCount + k)) return undefined;
  const batches = data.batches.map((b) => ({ x: tf.tidy(() => split.trunk(b.x)), y: tf.clone(b.y), n: b.n, indices: b.indices }));
  return { block: ParamBlock.all(split.head), features: BatchSet.of(batches) };
}

/** The damped inverse of `op`, or the identity for the baseline of {@link InfluenceOptions.identityHessians}. */
function inverseOf(op: SymmetricOperator, so: SolveOptions, o: InfluenceOptions): Pick<InverseHessian, 'solve' | 'usesExact'> {
  if (!o.identityHessians) return new InverseHessian(op, so);
  const diagnostics: SolveDiagnostics = { system: so.system, solver: 'identity', dampingForm: so.dampingForm, damping: 0, dimension: op.dimension, iterations: 0, residuals: [], relativeResidual: 0, converged: true, negativeCurvatureAt: null };
  return { usesExact: false, solve: async (b) => ({ x: Float64Array.from(b), diagnostics }) };
}

/** Mean gradient of the loss over a batch set on a block. */
export function meanGradient(loss: LossName, block: ParamBlock, set: BatchSet): Float64Array {
  const g = new Float64Array(block.size);
  for (const b of set.batches) accumulateGradient(loss, block, b, g);
  return g.map((v) => v / set.count);
}

function maxAbsDifference(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Per-example losses and predictions of a model over a set of examples. */
export async function evaluateExamples(
  model: Model,
  loss: LossName,
  source: ExampleSource,
  batchSize: number,
  indices?: readonly number[],
  signal?: AbortSignal,
): Promise<{ indices: number[]; losses: Float32Array; predictions: number[][]; labels: number[][] }> {
  const out = { indices: [] as number[], losses: [] as number[], predictions: [] as number[][], labels: [] as number[][] };
  await forEachBatch(
    model,
    source,
    batchSize,
    (b) => {
      tf.tidy(() => {
        const logits = model.forward(model.params, b.x);
        const l = perExampleLoss(loss, { value: logits, tangent: null }, b.y).value.dataSync();
        const pred = predictions(loss, logits);
        const per = pred.size / b.n;
        const pd = pred.dataSync();
        const yd = b.y.dataSync();
        const yPer = yd.length / b.n;
        b.indices.forEach((idx, k) => {
          out.indices.push(idx);
          out.losses.push(l[k] as number);
          out.predictions.push(Array.from(pd.slice(k * per, (k + 1) * per)));
          out.labels.push(Array.from(yd.slice(k * yPer, (k + 1) * yPer)));
        });
      });
    },
    signal,
    indices,
  );
  return { indices: out.indices, losses: Float32Array.from(out.losses), predictions: out.predictions, labels: out.labels };
}
