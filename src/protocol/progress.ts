/** Progress of a long job, as the worker reports it (throttled to about 100 ms). */
export interface JobProgress {
  /** A short phase name: 'load', 'finetune-ihvp', 'pretrain-ihvp', 'score', 'train', ... */
  readonly phase: string;
  /** A human-readable line, e.g. "CG 12/100, residual 3.1e-4". */
  readonly message: string;
  /** Overall fraction done in [0, 1], where known. */
  readonly fraction?: number;
  readonly iteration?: number;
  readonly maxIterations?: number;
  readonly relativeResidual?: number;
}
