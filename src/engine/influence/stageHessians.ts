/**
 * The Hessians of the two stages as operators over float64 vectors, and the damped
 * inverse-Hessian-vector products on them (CG, or exact for small dimensions).
 */
import type { DampingForm, LossName, SolverName } from '../../common/workspaceConfig';
import type { SolveDiagnostics } from '../../common/solveDiagnostics';
import { accumulateHessianVectorProduct, type ParamBlock } from '../autodiff/hessianVectorProduct';
import type { BatchSet } from '../batches';
import { yieldToEventLoop } from '../batches';
import { throwIfAborted } from '../cancel';
import { solveDamped, type SymmetricOperator } from '../linalg/conjugateGradient';
import { eigenSolve, spectralApply, symmetricEigen, type Eigen } from '../linalg/symmetricEigen';
import { axpy, combine, norm } from '../linalg/vector';

const identity = (mu: number): number => mu;

/** Above this dimension `solver: "auto"` uses CG instead of the exact dense solver. */
export const AUTO_EXACT_MAX_DIMENSION = 400;

/**
 * The Hessian of a mean loss over a batch set, restricted to block rows × cols, plus
 * `proximal` times the identity on the entries listed in `proximalMask` (Case 2's 2α on W).
 *
 * ```tex
 * v \mapsto \Big(\tfrac{1}{N}\textstyle\sum_{i=1}^{N} \partial^2 \ell_i/\partial\theta^2\Big) v \;+\; c\,P v
 * ```
 */
export class MeanLossHessian implements SymmetricOperator {
  readonly dimension: number;
  /** Products evaluated so far (each one pass over the batch set). */
  products = 0;

  constructor(
    private readonly loss: LossName,
    private readonly block: ParamBlock,
    private readonly data: BatchSet,
    private readonly proximal = 0,
    private readonly proximalMask?: Uint8Array,
  ) {
    this.dimension = block.size;
  }

  async apply(v: Float64Array, signal?: AbortSignal): Promise<Float64Array> {
    return this.applyRows(this.block, v, signal);
  }

  /** The rows of another block of the same model (a mixed second derivative) times v. */
  async applyRows(rows: ParamBlock, v: Float64Array, signal?: AbortSignal): Promise<Float64Array> {
    const out = new Float64Array(rows.size);
    for (const b of this.data.batches) {
      throwIfAborted(signal);
      accumulateHessianVectorProduct(this.loss, rows, this.block, v, b, out);
      await yieldToEventLoop();
    }
    const inv = 1 / this.data.count;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * inv;
    if (this.proximal !== 0 && this.proximalMask && rows === this.block) {
      for (let i = 0; i < out.length; i++) if (this.proximalMask[i]) out[i] = (out[i] as number) + this.proximal * (v[i] as number);
    }
    this.products++;
    return out;
  }
}

export interface SolveOptions {
  readonly system: 'pretrain' | 'finetune';
  readonly damping: number;
  readonly dampingForm: DampingForm;
  readonly solver: SolverName;
  readonly maxIterations: number;
  readonly tolerance: number;
  readonly signal?: AbortSignal;
  readonly onIteration?: (iteration: number, maxIterations: number, relativeResidual: number) => void;
}

/**
 * A damped inverse-Hessian-vector product solver for one system; with the exact solver the
 * eigen-decomposition is built once and reused for every right-hand side.
 */
export class InverseHessian {
  private eigen: Eigen | undefined;

  constructor(
    private readonly op: SymmetricOperator,
    private readonly o: SolveOptions,
  ) {}

  get usesExact(): boolean {
    return this.o.solver === 'exact' || (this.o.solver === 'auto' && this.op.dimension <= AUTO_EXACT_MAX_DIMENSION);
  }

  /**
   * x = (H + λI)⁻¹ b, or (H² + λI)⁻¹ H b (eq. 16), with diagnostics.
   */
  async solve(b: Float64Array): Promise<{ x: Float64Array; diagnostics: SolveDiagnostics }> {
    const o = this.o;
    if (!this.usesExact) {
      const r = await solveDamped(this.op, b, o.damping, o.dampingForm, {
        maxIterations: o.maxIterations,
        tolerance: o.tolerance,
        signal: o.signal,
        onIteration: (it, rel) => o.onIteration?.(it, o.maxIterations, rel),
      });
      return {
        x: r.x,
        diagnostics: {
          system: o.system,
          solver: 'cg',
          dampingForm: o.dampingForm,
          damping: o.damping,
          dimension: this.op.dimension,
          iterations: r.iterations,
          residuals: r.residuals,
          relativeResidual: r.relativeResidual,
          converged: r.converged,
          negativeCurvatureAt: r.negativeCurvatureAt,
        },
      };
    }
    const e = await this.decomposition();
    const x = eigenSolve(e, b, o.damping, o.dampingForm);
    // Residual of the damped system, computed from the decomposition in float64.
    const hx = spectralApply(e, x, identity);
    const ax = o.dampingForm === 'plain' ? axpy(o.damping, x, hx) : axpy(o.damping, x, spectralApply(e, hx, identity));
    const rhs = o.dampingForm === 'plain' ? b : spectralApply(e, b, identity);
    const rn = norm(rhs);
    const rel = rn === 0 ? 0 : norm(combine(1, rhs, -1, ax)) / rn;
    const minEig = e.values[0] ?? 0;
    const maxEig = e.values[e.n - 1] ?? 0;
    const pd = o.dampingForm === 'squared' || minEig + o.damping > 0;
    return {
      x,
      diagnostics: {
        system: o.system,
        solver: 'exact',
        dampingForm: o.dampingForm,
        damping: o.damping,
        dimension: e.n,
        iterations: e.n,
        residuals: [rel],
        relativeResidual: rel,
        converged: pd,
        negativeCurvatureAt: pd ? null : 0,
        minEigenvalue: minEig,
        maxEigenvalue: maxEig,
      },
    };
  }

  /** The explicit Hessian, column by column (n products), symmetrised, then decomposed. */
  private async decomposition(): Promise<Eigen> {
    if (this.eigen) return this.eigen;
    const n = this.op.dimension;
    const h = new Float64Array(n * n);
    const unit = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      throwIfAborted(this.o.signal);
      unit.fill(0);
      unit[j] = 1;
      const col = await this.op.apply(unit, this.o.signal);
      for (let i = 0; i < n; i++) h[i * n + j] = col[i] as number;
      this.o.onIteration?.(j + 1, n, NaN);
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const s = 0.5 * ((h[i * n + j] as number) + (h[j * n + i] as number));
        h[i * n + j] = s;
        h[j * n + i] = s;
      }
    }
    this.eigen = symmetricEigen(h, n, this.o.signal);
    return this.eigen;
  }
}
