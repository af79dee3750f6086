/**
 * The leave-one-out check (`msif validate`, the paper's Fig. 2): the options of the
 * worker's validate job and the report it returns. For N sampled pretraining examples
 * (half of largest |score|, half random) both stages are retrained without the example;
 * the actual change of the test loss is compared with the prediction −I(z, xt)/m, and
 * with two baselines (identity Hessians, random scores).
 */
import type { EmbeddingCase } from '../common/workspaceConfig';
import type { SolveDiagnostics } from '../common/solveDiagnostics';
import type { InfluenceOverrides } from './jobTypes';
import type { TestPointSummary, TraceReport } from './report';

/**
 * What each retraining run minimises, from the saved weights:
 * - `response` (default): `proximal`, anchored at the saved weights — each stage's
 *   gradient there is subtracted (a linear term), so that the saved weights are the exact
 *   minimiser with nothing removed, whether or not training reached a stationary point.
 *   Removing z then starts every run with −∇g(z)/m alone: the damped response at the
 *   weights the influence function is computed at (in parameter space, Bae et al. 2022's
 *   proximal Bregman response); the base run takes no step;
 * - `proximal`: each stage's objective plus (μ/2)‖θ − θ_saved‖² with μ the stage's
 *   influence damping λ; its first-order response to removing z is exactly what the
 *   damped influence function computes at its minimiser, and it has a minimiser even where
 *   the plain objective has none (separable pretraining data drive the weights to infinity);
 * - `plain`: the objectives of contract §1 as they are (true leave-one-out retraining).
 */
export type RetrainObjective = 'response' | 'proximal' | 'plain';

export const RETRAIN_OBJECTIVES: readonly RetrainObjective[] = ['response', 'proximal', 'plain'];

/** The retraining's stopping rule and objective. */
export interface RetrainOptions {
  readonly objective: RetrainObjective;
  /** Each stage stops at ‖∇‖₂ ≤ this. */
  readonly gradientTolerance: number;
  /** …or after this many L-BFGS steps. */
  readonly maxIterations: number;
  /** L-BFGS memory. */
  readonly memory: number;
  /**
   * Where each leave-one-out run starts: `base`, the base run's end (the same objective
   * less one example: its minimiser is near, found in far fewer steps), or `saved`, the
   * saved weights like the base run. The base and noise runs always start from the saved
   * weights; the objectives (and proximal centres) are the same either way.
   */
  readonly start: RetrainStart;
}

export type RetrainStart = 'base' | 'saved';
export const RETRAIN_STARTS: readonly RetrainStart[] = ['base', 'saved'];

export const DEFAULT_RETRAIN_OPTIONS: RetrainOptions = { objective: 'response', gradientTolerance: 1e-6, maxIterations: 200, memory: 10, start: 'base' };

export interface ValidateOptions {
  /** N: how many pretraining examples to retrain without (⌊N/2⌋ top-|score|, the rest random). */
  readonly sample: number;
  /** Test selection as for trace: an index, an id, `all` (default) or `misclassified`. */
  readonly test?: string;
  /** Overrides `finetune.embedding`. */
  readonly case?: EmbeddingCase;
  /** Seeds the random half, the random-score baseline and the noise run; default `influence.seed`. */
  readonly seed?: number;
  readonly retrain?: Partial<RetrainOptions>;
  /** Applied over the workspace's `influence` block (editor settings). */
  readonly overrides?: InfluenceOverrides;
}

/** Where one stage of one retraining run ended. */
export interface RetrainStageView {
  readonly iterations: number;
  readonly evaluations: number;
  readonly initialGradientNorm: number;
  /** The largest ‖∇‖ over the run (absent in reports written before it was recorded). */
  readonly maxGradientNorm?: number;
  readonly gradientNorm: number;
  readonly objective: number;
  readonly converged: boolean;
  /** `converged`, `max-iterations`, or `line-search` (no step lowered the objective). */
  readonly stop: string;
}

/** One retraining run of both stages. */
export interface RetrainRunView {
  /** Σ_t f(x_t) at the retrained weights. */
  readonly testLoss: number;
  readonly pretrain: RetrainStageView;
  readonly finetune: RetrainStageView;
}

/** One sampled pretraining example. */
export interface ValidateRow {
  readonly index: number;
  readonly id: string;
  /** 1-based line in the pretraining dataset file (JSON Lines only). */
  readonly line?: number;
  readonly text?: string;
  readonly sample: 'top' | 'random';
  /** I(z, xt) summed over the selected test points. */
  readonly score: number;
  /** −I(z, xt)/m: the predicted change of the summed test loss when z is removed. */
  readonly predicted: number;
  /** The measured change: L_test(retrained without z) − L_test(base). */
  readonly actual: number;
  /** −I_identity(z, xt)/m with every inverse Hessian replaced by I (paper, Fig. 3). */
  readonly identityPredicted: number;
  /** A seeded standard normal draw (the random-score baseline). */
  readonly randomPredicted: number;
  readonly retrain: RetrainRunView;
}

/** Pearson's r and Spearman's ρ on a part of the sample (null where undefined: n < 2 or constant). */
export interface CorrelationView {
  readonly n: number;
  readonly pearson: number | null;
  readonly spearman: number | null;
}

/** Correlations of one predictor with the actual changes, per sample half and overall. */
export interface CorrelationSet {
  readonly top: CorrelationView;
  readonly random: CorrelationView;
  readonly all: CorrelationView;
}

export interface ValidateReport {
  readonly version: 1;
  readonly kind: 'validate';
  readonly case: EmbeddingCase;
  /** The selected test points (their losses are summed). */
  readonly test: TestPointSummary[];
  readonly pretrainCount: number;
  readonly sample: { readonly requested: number; readonly top: number; readonly random: number; readonly seed: number };
  readonly rows: ValidateRow[];
  readonly correlations: {
    /** The method: −I/m. */
    readonly influence: CorrelationSet;
    /** Identity Hessians: −I_identity/m. */
    readonly identity: CorrelationSet;
    /** Random scores. */
    readonly random: CorrelationSet;
  };
  /** Σ_t f(x_t) at the saved weights, after the base retraining and after the noise run. */
  readonly testLoss: { readonly saved: number; readonly base: number; readonly noise: number };
  readonly noiseFloor: {
    /** |L_test(noise run) − L_test(base)|: the two differ only in the gradient's summation order. */
    readonly spread: number;
    readonly medianAbsActual: { readonly all: number | null; readonly top: number | null; readonly random: number | null };
    /** Comparable when spread > threshold × median |actual|. */
    readonly threshold: number;
    readonly comparable: { readonly all: boolean; readonly top: boolean; readonly random: boolean };
  };
  readonly settings: {
    readonly influence: TraceReport['settings'];
    readonly retrain: RetrainOptions & {
      readonly optimizer: 'lbfgs';
      /** μ_p, μ_f of the proximal terms (0 with `plain`). */
      readonly proximal: { readonly pretrain: number; readonly finetune: number };
      /**
       * What each run finds: `minimum` of the (damped) objective, or with the response
       * objective and the squared damping form, `stationary`: the minimiser of
       * ½‖∇(objective)‖² + (λ/2)‖θ − θ_saved‖², whose first-order response is the squared
       * form's (H² + λI)⁻¹H. Absent in older reports (`minimum`).
       */
      readonly response?: 'minimum' | 'stationary';
    };
  };
  readonly retrain: { readonly base: RetrainRunView; readonly noise: RetrainRunView };
  readonly diagnostics: {
    readonly backend: string;
    readonly seconds: number;
    /** The influence computation's solves (the method's; the identity baseline solves nothing). */
    readonly solves: SolveDiagnostics[];
    readonly gradientNorms: { readonly pretrain: number; readonly finetune: number };
    /** Retraining runs (base, noise, one per row) with a stage that did not converge. */
    readonly unconvergedRuns: number;
    /**
     * Runs resolving a small perturbation (leave-one-out runs from the base run's end; with the
     * response objective, those and the noise run) whose ‖∇‖ rose more than tenfold above its
     * start and the gradient tolerance: they left the start's neighbourhood (the damped
     * Hessian is not positive definite there) and measured another minimum. Absent in older
     * reports.
     */
    readonly departedRuns?: number;
    /**
     * Where finished runs are kept (a stopped check resumes there), how many were found
     * there finished (by an earlier invocation or another process), and how many this
     * process waited for while another process running the same check ran them (absent in
     * older reports); null with the cache off.
     */
    readonly journal?: { readonly dir: string; readonly resumedRuns: number; readonly sharedRuns?: number } | null;
    readonly warnings: string[];
    readonly phases: { readonly name: string; readonly seconds: number }[];
  };
}
