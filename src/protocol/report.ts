/**
 * The trace report (contract §5). This is what `msif trace` prints and what the worker
 * returns to the extension; extra fields are additions the contract allows.
 */
import type { DampingForm, EmbeddingCase, SolverName } from '../common/workspaceConfig';
import type { SolveDiagnostics } from '../common/solveDiagnostics';

export type { SolveDiagnostics };

export interface TestPointSummary {
  readonly index: number;
  readonly id: string;
  /** The true label (class index, 0/1, or the target for `mse`). */
  readonly label: number | number[];
  /** argmax class (softmax), 0/1 (sigmoid), or the output (mse). */
  readonly prediction: number | number[];
  readonly loss: number;
  /** 1-based line in the test dataset file (JSON Lines only). */
  readonly line?: number;
}

export interface RankedExample {
  readonly index: number;
  readonly id: string;
  readonly score: number;
  /** The example's caption (`text` field of a JSON Lines record), if any. */
  readonly text?: string;
  /** 1-based line in the pretraining dataset file (JSON Lines only). */
  readonly line?: number;
}

export interface TraceReport {
  readonly version: 1;
  readonly case: EmbeddingCase;
  readonly test: TestPointSummary[];
  readonly pretrainCount: number;
  /** I(z_i, xt) summed over the selected test points, in dataset order. */
  readonly scores: number[];
  readonly harmful: RankedExample[];
  readonly helpful: RankedExample[];
  /** Case 1 only: the ∇_W f term and the term through Θ, which add up to `scores`. */
  readonly breakdown?: { readonly direct: number[]; readonly throughHead: number[] };
  readonly settings: {
    readonly pretrainDamping: number;
    readonly finetuneDamping: number;
    readonly cgIterations: number;
    readonly cgTolerance: number;
    readonly hessianSamples: number;
    readonly alpha: number;
    readonly seed: number;
    readonly dampingForm: DampingForm;
    readonly solver: SolverName;
  };
  readonly diagnostics: {
    readonly backend: string;
    /** Why that backend: what decided it (e.g. the model's forward cost) and why the ones before it in the order were not used. */
    readonly backendReason?: string;
    readonly seconds: number;
    /** Relative residual per CG iteration of the pretraining solve (contract field). */
    readonly cgResidual: number[];
    readonly solves: SolveDiagnostics[];
    /** Pretraining examples that formed the Hessian. */
    readonly hessianSampleCount: number;
    /** Parameter counts of W, U and Θ. */
    readonly parameters: { readonly W: number; readonly U: number; readonly Theta: number };
    /** ‖∇G‖ and ‖∇F‖ at the loaded weights: large values mean a model far from a minimum. */
    readonly gradientNorms: { readonly pretrain: number; readonly finetune: number };
    readonly warnings: string[];
    readonly phases: { readonly name: string; readonly seconds: number }[];
    /**
     * Bytes held by live tensors: the high-water mark sampled after each batch's passes
     * (src/engine/tensorMemory.ts; a lower bound of the true peak), and at the start.
     */
    readonly memory?: { readonly peakTensorBytes: number; readonly startTensorBytes: number };
    /** Whether the solves came from the disk cache (src/worker/ihvpCache.ts) and its key. */
    readonly cache?: { readonly hit: boolean; readonly key: string };
  };
}
