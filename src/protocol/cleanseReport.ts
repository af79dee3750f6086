/**
 * Data cleansing (Chen et al., NeurIPS 2020, §4.2): the options of `msif cleanse` and of
 * the worker's cleanse job, and the report both return. Remove the top p% harmful
 * pretraining examples, retrain both stages, and compare against removing nothing and
 * against removing random p%.
 */
import type { EmbeddingCase, TrainingSettings } from '../common/workspaceConfig';
import type { SolveDiagnostics } from '../common/solveDiagnostics';
import type { RankedExample } from './report';

/**
 * Which points the harmfulness scores are summed over:
 * - `heldout`: a seeded split of the finetuning training set, which every arm then leaves
 *   out of finetuning, so that the test set plays no part in choosing what to remove;
 * - `test`: the test set itself (what `msif trace --test all` scores); the test accuracy
 *   of the cleansed arm is then optimistic, since the test set chose the removals.
 */
export type CleanseScoring = 'heldout' | 'test';

export const CLEANSE_SCORINGS: readonly CleanseScoring[] = ['heldout', 'test'];

export const DEFAULT_CLEANSE = {
  by: 'heldout' as CleanseScoring,
  heldoutFraction: 0.2,
  randomTrials: 3,
} as const;

export interface CleanseOptions {
  /** Percentage of the pretraining set to remove, in (0, 100). */
  readonly percent: number;
  /** Default `heldout`. */
  readonly by?: CleanseScoring;
  /** Fraction of the finetuning training set held out (`by: heldout`), in (0, 1); default 0.2. */
  readonly heldoutFraction?: number;
  /** Overrides `finetune.embedding`: how finetuning is retrained and scored. */
  readonly case?: EmbeddingCase;
  /** How many random removals of the same size to retrain; default 3. */
  readonly randomTrials?: number;
  /** Seeds the held-out split and the random removals; default `training.seed`. */
  readonly seed?: number;
}

/** Test (or held-out) metrics of one retrained arm. */
export interface ArmMetrics {
  /** How many points were evaluated. */
  readonly count: number;
  /** Mean loss over them. */
  readonly loss: number;
  /** Fraction classified correctly; null for `mse`. */
  readonly accuracy: number | null;
}

export type ArmKind = 'baseline' | 'cleansed' | 'random';

/** One retraining of both stages without a set of pretraining examples. */
export interface CleanseArm {
  readonly kind: ArmKind;
  /** Random arms: 0-based trial number and the seed of their removal. */
  readonly trial?: number;
  readonly seed?: number;
  /** Removed pretraining examples (dataset indices, ascending). */
  readonly removed: number[];
  readonly test: ArmMetrics;
  /** Metrics on the held-out split (`by: heldout`). */
  readonly heldout?: ArmMetrics;
  /** Test metrics minus the baseline's (0 for the baseline; accuracy null for `mse`). */
  readonly change: { readonly loss: number; readonly accuracy: number | null };
  /**
   * The mean loss over the scoring set (held-out or test) minus the baseline's, measured,
   * and as the influence scores predict it: −Σ_{i∈removed} I(z_i)/(m·n_s) (contract §1).
   */
  readonly scoringLossChange: number;
  readonly predictedScoringLossChange: number;
  /** Where retraining ended: the objective and its gradient norm, per stage. */
  readonly training: {
    readonly pretrain: { readonly finalLoss: number; readonly gradientNorm: number };
    readonly finetune: { readonly finalLoss: number; readonly gradientNorm: number };
  };
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export interface MeanSd {
  readonly mean: number;
  readonly sd: number;
  readonly n: number;
}

export interface CleanseReport {
  readonly version: 1;
  readonly kind: 'cleanse';
  /** Absolute path of the msif.json. */
  readonly config: string;
  readonly case: EmbeddingCase;
  readonly by: CleanseScoring;
  readonly percent: number;
  readonly seed: number;
  /** m: the pretraining set's size. */
  readonly pretrainCount: number;
  /** round(percent·m/100): how many the percentage asks for. */
  readonly requestedCount: number;
  /** How many were removed: fewer than requested when fewer examples have a positive score. */
  readonly removedCount: number;
  /** The finetuning examples every arm trained on (all but the held-out split). */
  readonly finetuneTrainCount: number;
  readonly heldout?: { readonly fraction: number; readonly indices: number[]; readonly ids: string[] };
  /** The scores that chose the removal, computed at the baseline arm's retrained models. */
  readonly scoring: {
    readonly set: CleanseScoring;
    readonly count: number;
    /** I(z_i) summed over the scoring set, one per pretraining example. */
    readonly scores: number[];
    readonly solves: SolveDiagnostics[];
  };
  /** The removed examples, most harmful first. */
  readonly removed: RankedExample[];
  readonly arms: {
    readonly baseline: CleanseArm;
    readonly cleansed: CleanseArm;
    readonly random: CleanseArm[];
  };
  /** Over the random arms: change of test accuracy and loss against the baseline (null without random arms; accuracy null for `mse`). */
  readonly randomSummary: { readonly accuracyChange: MeanSd | null; readonly lossChange: MeanSd | null };
  /** One or two sentences: did cleansing beat random removal? */
  readonly summary: string;
  readonly settings: {
    readonly training: TrainingSettings;
    readonly randomTrials: number;
    readonly heldoutFraction?: number;
    /** How every arm starts: from the workspace's saved weights. */
    readonly initialization: 'saved-weights';
  };
  readonly diagnostics: {
    readonly backend: string;
    readonly seconds: number;
    readonly phases: { readonly name: string; readonly seconds: number }[];
    readonly warnings: string[];
  };
}

/** The parameters of writing the pretraining set without some examples. */
export interface WriteFilteredOptions {
  /** Dataset indices to leave out. */
  readonly exclude: readonly number[];
  /** Where to write the JSON Lines file. */
  readonly out: string;
  /** Replace `out` if it exists (never a file of the workspace). Default false. */
  readonly overwrite?: boolean;
}

export interface WriteFilteredResult {
  readonly out: string;
  /** Examples written and left out. */
  readonly written: number;
  readonly excluded: number;
  /** `lines`: the input's lines copied byte for byte; `records`: records built from IDX/NumPy data. */
  readonly mode: 'lines' | 'records';
}
