/** Parameters and results of the worker's jobs, shared by the worker, the CLI and the host. */
import type { EmbeddingCase } from '../common/workspaceConfig';

export interface TraceOptions {
  /** `index` (number as string), an example id, `all` or `misclassified`. */
  readonly test: string;
  readonly case?: EmbeddingCase;
  readonly top?: number;
}

export interface TrainResult {
  readonly pretrain: { readonly model: string; readonly finalLoss: number; readonly gradientNorm: number; readonly epochs: number };
  readonly finetune: { readonly model: string; readonly finalLoss: number; readonly gradientNorm: number; readonly epochs: number; readonly testAccuracy: number };
  readonly seconds: number;
  readonly backend: string;
}
