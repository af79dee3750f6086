/**
 * The multi-stage influence function of Chen et al. (NeurIPS 2020), contract §1, in float64
 * with explicit Hessians and dense solves, evaluated literally for every pretraining
 * example. The reference the float32 engine is tested against.
 */
import {
  DampedInverse,
  type DampingForm,
  dot,
  gather,
  matVec,
  subMatrix,
  symmetricEigenvalues,
} from './denseLinearAlgebra';
import { loadReferenceWorkspace, type ReferenceWorkspace } from './referenceWorkspace';

/** What to score and how; unset fields come from the workspace (then contract defaults). */
export interface InfluenceOptions {
  /** Test points xt (indices into the finetuning test set); scores are summed over them (eq. 8). */
  readonly testIndices: readonly number[];
  /** Overrides `finetune.embedding`. */
  readonly case?: 'fixed' | 'updated';
  /** Pretraining examples whose mean loss forms ∂²G (default: all of them). */
  readonly hessianExamples?: readonly number[];
  /** λ_p, on the pretraining Hessian. */
  readonly pretrainDamping?: number;
  /** λ_f, on ∂²F/∂Θ² (Case 1) or K (Case 2). */
  readonly finetuneDamping?: number;
  /** α of the proximal surrogate (Case 2). */
  readonly alpha?: number;
  /** `plain` (H + λI)⁻¹ (default) or `squared` (H² + λI)⁻¹H (eq. 16), for both solves. */
  readonly dampingForm?: DampingForm;
}

/** Extreme eigenvalues of an undamped Hessian. */
export interface EigenRange {
  readonly min: number;
  readonly max: number;
}

/** Scores I(z, xt), one per pretraining example in dataset order. */
export interface InfluenceResult {
  readonly case: 'fixed' | 'updated';
  readonly scores: Float64Array;
  /** Case 1 only: ∇_W f(xt)ᵀ I_W(z). */
  readonly direct?: Float64Array;
  /** Case 1 only: −∇_Θ f(xt)ᵀ (∂²F/∂Θ² + λ_f I)⁻¹ ∂²F/∂Θ∂W I_W(z). */
  readonly throughHead?: Float64Array;
  /** I_W(z) for each pretraining example (eq. 11), W in the pretraining model's order. */
  readonly embeddingInfluence: readonly Float64Array[];
  /** Spectrum ends of ∂²G/∂(W,U)². */
  readonly pretrainEigenvalues: EigenRange;
  /** Spectrum ends of ∂²F/∂Θ² (Case 1) or K (Case 2), undamped. */
  readonly finetuneEigenvalues: EigenRange;
}

/**
 * I(z, xt) for every pretraining example z, summed over the test points.
 *
 * ```tex
 * I_W(z) = -\big[(\partial^2 G/\partial(W,U)^2 + \lambda_p I)^{-1}\nabla_{(W,U)} g(z)\big]_W
 *   \quad\text{(eq. 11, at } \bar W,\bar U\text{ from the pretraining model)}\\
 * \text{Case 1 (eq. 9–10): } I(z,x_t) = \big[\nabla_W f(x_t)^\top - \nabla_\Theta f(x_t)^\top
 *   (\partial^2F/\partial\Theta^2 + \lambda_f I)^{-1}\,\partial^2F/\partial\Theta\partial W\big]\, I_W(z)\\
 * \text{Case 2 (eq. 13–15): } K = \nabla^2_{(\Theta,W)}F + 2\alpha\,I_W,\quad
 * \begin{bmatrix}d\Theta\\ dW\end{bmatrix} = (K + \lambda_f I)^{-1}\begin{bmatrix}0\\ 2\alpha\, I_W(z)\end{bmatrix},\quad
 * I(z,x_t) = \nabla_{(\Theta,W)} f(x_t)^\top \begin{bmatrix}d\Theta\\ dW\end{bmatrix}
 * ```
 * (the contract's −K⁻¹[0; 2α·I]·[(∂²G)⁻¹∇g(z)]_W with I_W(z) substituted).
 * f, F and their derivatives are taken at W*, Θ* from the finetuning model file; with
 * `squared` damping every (H + λI)⁻¹ becomes (H² + λI)⁻¹H.
 *
 * ## Method
 * Exact Hessians ({@link ReferenceNet.hessian}), one LU factorisation per damped matrix,
 * and a solve per pretraining example (no transposition trick), so each score is the
 * formula as written.
 */
export function referenceInfluence(workspace: ReferenceWorkspace | string, options: InfluenceOptions): InfluenceResult {
  const ws = typeof workspace === 'string' ? loadReferenceWorkspace(workspace) : workspace;
  const kase = options.case ?? ws.embedding;
  const form = options.dampingForm ?? 'plain';
  const lambdaP = options.pretrainDamping ?? ws.pretrainDamping;
  const lambdaF = options.finetuneDamping ?? ws.finetuneDamping;
  const alpha = options.alpha ?? ws.alpha;
  const { pretrain, finetune } = ws;

  // Pretraining stage at (W̄, Ū): I_W(z) for every z (eq. 11).
  const Pp = pretrain.net.paramCount;
  const hessianSet =
    options.hessianExamples === undefined
      ? pretrain.train
      : options.hessianExamples.map((i) => pretrain.train[i] ?? outOfRange('pretraining example', i));
  const hG = pretrain.net.hessian(pretrain.savedParams, hessianSet);
  const inverseG = new DampedInverse(hG, Pp, lambdaP, form);
  const embeddingInfluence = pretrain.net
    .perExampleGradients(pretrain.savedParams, pretrain.train)
    .map((g) => gather(inverseG.apply(g), ws.sharedInPretrain).map((v) => -v));

  // Finetuning stage at (W*, Θ*): the summed test gradient and F's Hessian.
  const Pf = finetune.net.paramCount;
  const testGradient = new Float64Array(Pf);
  const tests = options.testIndices.map((t) => finetune.test[t] ?? outOfRange('test point', t));
  for (const g of finetune.net.perExampleGradients(finetune.savedParams, tests)) {
    for (let i = 0; i < Pf; i++) testGradient[i] = (testGradient[i] as number) + (g[i] as number);
  }
  const hF = finetune.net.hessian(finetune.savedParams, finetune.train);
  const theta = ws.otherInFinetune;
  const shared = ws.sharedInFinetune;
  const m = embeddingInfluence.length;
  const scores = new Float64Array(m);
  const pretrainEigenvalues = range(symmetricEigenvalues(hG, Pp));

  if (kase === 'fixed') {
    const hThetaTheta = subMatrix(hF, Pf, theta, theta);
    const hThetaW = subMatrix(hF, Pf, theta, shared);
    const inverseF = new DampedInverse(hThetaTheta, theta.length, lambdaF, form);
    const gW = gather(testGradient, shared);
    const gTheta = gather(testGradient, theta);
    const direct = new Float64Array(m);
    const throughHead = new Float64Array(m);
    embeddingInfluence.forEach((iw, z) => {
      direct[z] = dot(gW, iw);
      throughHead[z] = -dot(gTheta, inverseF.apply(matVec(hThetaW, theta.length, shared.length, iw)));
      scores[z] = (direct[z] as number) + (throughHead[z] as number);
    });
    return {
      case: kase,
      scores,
      direct,
      throughHead,
      embeddingInfluence,
      pretrainEigenvalues,
      finetuneEigenvalues: range(symmetricEigenvalues(hThetaTheta, theta.length)),
    };
  }

  const joint = [...theta, ...shared];
  const n = joint.length;
  const k = subMatrix(hF, Pf, joint, joint);
  for (let i = theta.length; i < n; i++) k[i * n + i] = (k[i * n + i] as number) + 2 * alpha;
  const inverseK = new DampedInverse(k, n, lambdaF, form);
  const gJoint = gather(testGradient, joint);
  embeddingInfluence.forEach((iw, z) => {
    const rhs = new Float64Array(n);
    iw.forEach((v, i) => (rhs[theta.length + i] = 2 * alpha * v));
    scores[z] = dot(gJoint, inverseK.apply(rhs));
  });
  return { case: kase, scores, embeddingInfluence, pretrainEigenvalues, finetuneEigenvalues: range(symmetricEigenvalues(k, n)) };
}

function range(eigenvalues: Float64Array): EigenRange {
  return { min: eigenvalues[0] as number, max: eigenvalues[eigenvalues.length - 1] as number };
}

function outOfRange(what: string, i: number): never {
  throw new RangeError(`${what} ${i} does not exist`);
}
