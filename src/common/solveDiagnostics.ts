/** What a damped inverse-Hessian-vector product solve reports (engine → report). */
import type { DampingForm } from './workspaceConfig';

export interface SolveDiagnostics {
  /** Which system: `pretrain` (∂²G/∂(W,U)²), `finetune` (∂²F/∂Θ² or K). */
  readonly system: 'pretrain' | 'finetune';
  /** `identity`: the inverse replaced by I (the identity-Hessian baseline, nothing solved). */
  readonly solver: 'cg' | 'exact' | 'identity';
  readonly dampingForm: DampingForm;
  readonly damping: number;
  readonly dimension: number;
  readonly iterations: number;
  /** ‖(A)x − b‖ / ‖b‖ of the damped system, per iteration (cg) or once (exact). */
  readonly residuals: number[];
  readonly relativeResidual: number;
  readonly converged: boolean;
  /** The first CG iteration with pᵀ(H+λI)p ≤ 0, or null. */
  readonly negativeCurvatureAt: number | null;
  /** Smallest eigenvalue of the undamped H, where it was computed (exact solver). */
  readonly minEigenvalue?: number;
  readonly maxEigenvalue?: number;
}
