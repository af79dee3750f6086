/** Parameters and results of the worker's jobs, shared by the worker, the CLI and the host. */
import type { EmbeddingCase, InfluenceSettings } from '../common/workspaceConfig';
import type { TestPointSummary } from './report';

/** Influence settings that override msif.json's for one job (e.g. from editor settings). */
export type InfluenceOverrides = Partial<Pick<InfluenceSettings, 'pretrainDamping' | 'finetuneDamping' | 'cgIterations'>>;

export interface TraceOptions {
  /** `index` (number as string), an example id, `all` or `misclassified`. */
  readonly test: string;
  readonly case?: EmbeddingCase;
  readonly top?: number;
  /** Applied over the workspace's `influence` block; the report's `settings` show the result. */
  readonly overrides?: InfluenceOverrides;
  /** Skip the disk cache of solves (src/worker/ihvpCache.ts): recompute and store nothing. */
  readonly noCache?: boolean;
}

/** What `evaluate` returns: every test point, in dataset order, with its prediction. */
export interface EvaluateResult {
  readonly test: TestPointSummary[];
  /** Indices of the misclassified test points (empty for `mse`). */
  readonly misclassified: number[];
  readonly backend: string;
}

/** L-BFGS polishing after a stage's epochs (training.polishSteps): steps taken, why it stopped. */
export interface PolishView {
  readonly steps: number;
  readonly stop: 'converged' | 'max-iterations' | 'line-search' | 'stalled';
}

export interface TrainResult {
  readonly pretrain: { readonly model: string; readonly finalLoss: number; readonly gradientNorm: number; readonly epochs: number; readonly polish?: PolishView };
  readonly finetune: { readonly model: string; readonly finalLoss: number; readonly gradientNorm: number; readonly epochs: number; readonly testAccuracy: number; readonly polish?: PolishView };
  readonly seconds: number;
  readonly backend: string;
}
