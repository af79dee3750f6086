/**
 * Task similarity and finetuning-set size (Chen et al., NeurIPS 2020, §4.3–4.4): the
 * distributions of the influence scores of two workspaces side by side. The paper finds
 * larger influence magnitudes when the pretraining and finetuning tasks are more similar
 * (§4.3) and smaller ones when the finetuning set is larger (§4.4).
 */
import type { EmbeddingCase } from '../common/workspaceConfig';
import type { InfluenceOverrides } from './jobTypes';
import type { Histogram } from '../common/histogram';
import type { DistributionView } from './webviewProtocol';

export interface SimilarityOptions {
  /** The test selection, applied to each workspace's own test set; default `all`. */
  readonly test?: string;
  /** Overrides `finetune.embedding` of both workspaces. */
  readonly case?: EmbeddingCase;
  /** Influence settings applied over both workspaces' `influence` blocks. */
  readonly overrides?: InfluenceOverrides;
}

/** Equal-width bins with log10 densities, on bins shared by both workspaces. */
export type DensityHistogram = Histogram;

/** Summary statistics of one score vector (the panel's view is the same record). */
export type ScoreDistribution = DistributionView;

/** One workspace's side of the comparison. */
export interface SimilaritySide {
  /** Absolute path of its msif.json. */
  readonly config: string;
  readonly case: EmbeddingCase;
  /** The test selection and how many test points it resolved to. */
  readonly test: string;
  readonly testCount: number;
  /** m and n: the pretraining and finetuning training sets' sizes. */
  readonly pretrainCount: number;
  readonly finetuneTrainCount: number;
  /** Statistics of the scores divided by `testCount` (the influence per test point). */
  readonly perTestPoint: ScoreDistribution;
  /** Statistics of the scores as the trace reports them (summed over the test points). */
  readonly summed: ScoreDistribution;
  /** Log-density histogram of the per-test-point scores, on bins common to both sides. */
  readonly histogram: DensityHistogram;
  /** Log-density histogram of log10 |score per test point| (zeros left out), on common bins. */
  readonly magnitudeHistogram: DensityHistogram;
  /** Solver warnings and unconverged solves of its trace. */
  readonly warnings: string[];
  readonly converged: boolean;
}

export interface SimilarityReport {
  readonly version: 1;
  readonly kind: 'similarity';
  /**
   * How the scores are made comparable: each trace's scores (summed over its selected
   * test points, eq. 8) are divided by the number of those points.
   */
  readonly normalization: 'per-test-point';
  readonly a: SimilaritySide;
  readonly b: SimilaritySide;
  /** a over b: mean and median |score per test point|. */
  readonly ratio: { readonly meanAbs: number; readonly medianAbs: number };
  /** The comparison in the paper's terms, sentence by sentence. */
  readonly reading: string[];
  readonly diagnostics: { readonly backend: string; readonly seconds: number };
}
