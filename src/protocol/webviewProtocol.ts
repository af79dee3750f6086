/**
 * The messages between the extension host and its webview panels (`webview/`), in the
 * style of GitLens' IPC: an {@link IpcCommand} goes webview → host, an {@link IpcRequest}
 * goes webview → host and is answered, an {@link IpcNotification} goes host → webview.
 *
 * Conventions:
 * - The webview sends {@link WebviewReadyRequest} first; the host posts nothing before it.
 *   The ready answer carries the panel's model unless the webview already holds that
 *   revision (restored from `getState`), so a model (24,000 scores) crosses once.
 * - Payloads are JSON only. Nothing here may import Node or VS Code modules: the webview
 *   bundle (browser) and the host both compile this file.
 */

// Pure (no Node, no VS Code): the webview bundle compiles it too.
import type { Histogram } from '../common/histogram';

/** Bumped on any incompatible change to the messages below. */
export const WEBVIEW_PROTOCOL_VERSION = 1;

/** The panels, by the part after `msif.` of their view type. */
export type PanelKind = 'trace' | 'misclassified' | 'compare' | 'validate' | 'cleanse' | 'similarity';

/** The webview panel view types (`registerWebviewPanelSerializer` keys). */
export const PANEL_VIEW_TYPES: Readonly<Record<PanelKind, string>> = {
  trace: 'msif.trace',
  misclassified: 'msif.misclassified',
  compare: 'msif.compare',
  validate: 'msif.validate',
  cleanse: 'msif.cleanse',
  similarity: 'msif.similarity',
};

// ---------------------------------------------------------------------------------------
// Message framing

/** Scopes group methods; a method's wire name is `scope/name`. */
export type IpcScope = 'core' | 'trace' | 'misclassified' | 'compare' | 'cleanse' | 'similarity';

abstract class IpcCall<Params> {
  readonly method: string;
  /** Phantom field: carries the parameter type; never set. */
  declare readonly _params?: Params;

  constructor(
    readonly scope: IpcScope,
    name: string,
  ) {
    this.method = `${scope}/${name}`;
  }
}

/** webview → host, no answer. */
export class IpcCommand<Params = void> extends IpcCall<Params> {
  readonly kind = 'command' as const;
}

/** webview → host, answered with a {@link IpcResponseParams} message carrying `completionId`. */
export class IpcRequest<Params = void, Result = void> extends IpcCall<Params> {
  readonly kind = 'request' as const;
  /** Phantom field: carries the result type; never set. */
  declare readonly _result?: Result;
}

/** host → webview, no answer. */
export class IpcNotification<Params = void> extends IpcCall<Params> {
  readonly kind = 'notification' as const;
}

export type IpcParams<T> = T extends IpcCall<infer P> ? P : never;
export type IpcResult<T> = T extends IpcRequest<unknown, infer R> ? R : never;

/** What goes over `postMessage`, both ways. */
export interface IpcMessage<Params = unknown> {
  /** Unique per sender (`w:3` from the webview, `h:3` from the host). */
  readonly id: string;
  readonly method: string;
  readonly params: Params;
  /** On a response: the `id` of the request it answers. */
  readonly completionId?: string;
}

/** The method of every response message. */
export const IPC_RESPONSE_METHOD = 'core/response';

/** The params of a response message. */
export type IpcResponseParams<Result = unknown> =
  | { readonly ok: true; readonly result: Result }
  | { readonly ok: false; readonly error: string };

/** True for an object shaped like an {@link IpcMessage}. */
export function isIpcMessage(value: unknown): value is IpcMessage {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  return (
    typeof m['id'] === 'string' &&
    typeof m['method'] === 'string' &&
    'params' in m &&
    (m['completionId'] === undefined || typeof m['completionId'] === 'string')
  );
}

/** True when `message` is a `type` message (narrows its params). */
export function isIpc<T extends IpcCall<unknown>>(message: IpcMessage, type: T): message is IpcMessage<IpcParams<T>> {
  return message.method === type.method;
}

// ---------------------------------------------------------------------------------------
// View models (what the panels render). The host builds them from trace reports.

/** Which dataset of the workspace an example comes from. */
export type DatasetRole = 'pretrain' | 'test';

/** An image input (x shaped [H, W], [H, W, 1] or [H, W, 3]) as bytes, row-major. */
export interface ImageView {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** `width·height·channels` values in 0–255. */
  readonly pixels: number[];
}

/** How to show one dataset example. */
export interface ExampleView {
  readonly role: DatasetRole;
  readonly index: number;
  readonly id: string;
  /** 1-based line in its JSON Lines file. */
  readonly line?: number;
  /** The record's caption (`text`). */
  readonly text?: string;
  /** The label as shown ("4 · Coat"). */
  readonly label?: string;
  readonly image?: ImageView;
  /** A short text rendering of `x` when it is not an image. */
  readonly preview?: string;
}

/** A pretraining example in a top list. */
export interface RankedRow {
  readonly index: number;
  readonly id: string;
  /** I(z, x_t), exactly as the report has it. */
  readonly score: number;
  readonly line?: number;
  readonly text?: string;
}

/** A test point with its true and predicted label. */
export interface TestPointView {
  readonly index: number;
  readonly id: string;
  /** True label as shown ("4 · Coat"). */
  readonly label: string;
  /** Prediction as shown. */
  readonly prediction: string;
  readonly misclassified: boolean;
  readonly loss: number;
  readonly line?: number;
}

/** Equal-width bins over the score range, with log10 of the density (paper, Fig. 5). */
export type HistogramView = Histogram;

/** One damped inverse-Hessian-vector product solve. */
export interface SolveView {
  readonly system: string;
  readonly solver: string;
  readonly dampingForm: string;
  readonly damping: number;
  readonly dimension: number;
  readonly iterations: number;
  readonly residuals: number[];
  readonly relativeResidual: number;
  readonly converged: boolean;
  readonly negativeCurvatureAt: number | null;
  readonly minEigenvalue?: number;
  readonly maxEigenvalue?: number;
}

export interface DiagnosticsView {
  readonly backend: string;
  readonly seconds: number;
  readonly solves: SolveView[];
  readonly warnings: string[];
  /** The influence settings the trace ran with. */
  readonly settings: Record<string, number | string>;
  readonly hessianSampleCount?: number;
  readonly parameters?: Record<string, number>;
  readonly gradientNorms?: Record<string, number>;
}

/** One side of a trace: its scores and top lists. */
export interface TraceResultView {
  readonly case: string;
  /** I(z_i, x_t) for every pretraining example, in dataset order. */
  readonly scores: number[];
  readonly harmful: RankedRow[];
  readonly helpful: RankedRow[];
}

export interface TracePanelModel {
  readonly kind: 'trace';
  /** Increases whenever the host replaces the model. */
  readonly revision: number;
  readonly title: string;
  /** Absolute path of the msif.json (the host needs it again after a reload). */
  readonly configPath: string;
  /** The msif.json, relative to the workspace where possible. */
  readonly configLabel: string;
  /** The worker's test selection (`3`, `all`, `misclassified`, an id). */
  readonly selection: string;
  readonly testPoints: TestPointView[];
  readonly pretrainCount: number;
  readonly result: TraceResultView;
  readonly histogram: HistogramView;
  readonly diagnostics: DiagnosticsView;
  /** Views of the examples in the initial top lists and of the test points. */
  readonly examples: ExampleView[];
}

export interface MisclassifiedPanelModel {
  readonly kind: 'misclassified';
  readonly revision: number;
  readonly title: string;
  readonly configPath: string;
  readonly configLabel: string;
  /** Misclassified test points, in dataset order. */
  readonly testPoints: TestPointView[];
  /** How many test points the dataset has (when known). */
  readonly testCount?: number;
  /** Views of the first test points; more come through {@link GetExamplesRequest}. */
  readonly examples: ExampleView[];
}

export interface ComparePanelModel {
  readonly kind: 'compare';
  readonly revision: number;
  readonly title: string;
  readonly configPath: string;
  readonly configLabel: string;
  readonly selection: string;
  readonly testPoints: TestPointView[];
  readonly pretrainCount: number;
  /** Case 1 (`fixed`) and Case 2 (`updated`). */
  readonly case1: TraceResultView;
  readonly case2: TraceResultView;
  /** Spearman's rank correlation of the two score vectors. */
  readonly spearman: number;
  readonly topK: number;
  /** |top-K(case 1) ∩ top-K(case 2)| for the harmful and the helpful lists. */
  readonly overlap: { readonly harmful: number; readonly helpful: number };
  readonly examples: ExampleView[];
}

/** Pearson's r and Spearman's ρ on part of the leave-one-out sample (null where undefined). */
export interface CorrelationCell {
  readonly n: number;
  readonly pearson: number | null;
  readonly spearman: number | null;
}

/** One predictor's correlations with the actual changes: top-|score| half, random half, all. */
export interface CorrelationRowView {
  readonly top: CorrelationCell;
  readonly random: CorrelationCell;
  readonly all: CorrelationCell;
}

/** One pretraining example of the leave-one-out check. */
export interface ValidateRowView {
  readonly index: number;
  readonly id: string;
  readonly line?: number;
  readonly text?: string;
  readonly sample: 'top' | 'random';
  readonly score: number;
  /** −I(z, xt)/m. */
  readonly predicted: number;
  /** L_test(retrained without z) − L_test(retrained on everything). */
  readonly actual: number;
  /** −I/m with identity Hessians. */
  readonly identityPredicted: number;
  /** Both stages of its retraining reached the gradient tolerance. */
  readonly converged: boolean;
}

/** The leave-one-out check (the paper's Fig. 2): predicted against actual changes of the test loss. */
export interface ValidatePanelModel {
  readonly kind: 'validate';
  readonly revision: number;
  readonly title: string;
  readonly configPath: string;
  readonly configLabel: string;
  /** The test selection whose summed loss was checked. */
  readonly selection: string;
  readonly case: string;
  readonly testPoints: TestPointView[];
  readonly pretrainCount: number;
  readonly seed: number;
  readonly rows: ValidateRowView[];
  readonly correlations: { readonly influence: CorrelationRowView; readonly identity: CorrelationRowView; readonly random: CorrelationRowView };
  readonly noiseFloor: {
    readonly spread: number;
    readonly medianAbsActual: { readonly all: number | null; readonly top: number | null; readonly random: number | null };
    readonly threshold: number;
    readonly comparable: { readonly all: boolean; readonly top: boolean; readonly random: boolean };
  };
  readonly testLoss: { readonly saved: number; readonly base: number; readonly noise: number };
  readonly retrain: {
    readonly objective: string;
    /** `minimum` or `stationary` (the response objective with the squared damping form). */
    readonly response?: string;
    readonly gradientTolerance: number;
    readonly maxIterations: number;
    readonly proximal: { readonly pretrain: number; readonly finetune: number };
    readonly runs: number;
    readonly unconvergedRuns: number;
  };
  readonly warnings: string[];
  readonly backend: string;
  readonly seconds: number;
  /** Views of the sampled examples and the test points. */
  readonly examples: ExampleView[];
}

/** One retrained arm of data cleansing (paper §4.2), as the cleanse panel shows it. */
export interface CleanseArmView {
  readonly kind: 'baseline' | 'cleansed' | 'random';
  /** "Baseline (nothing removed)", "Cleansed (top 60 harmful)", "Random 1", … */
  readonly label: string;
  readonly removedCount: number;
  readonly testLoss: number;
  /** null for `mse`. */
  readonly testAccuracy: number | null;
  /** Against the baseline. */
  readonly lossChange: number;
  readonly accuracyChange: number | null;
  /** Mean loss on the held-out split (`by: heldout`). */
  readonly heldoutLoss?: number;
  /** The scoring set's mean loss change, measured and as the scores predict it. */
  readonly scoringLossChange: number;
  readonly predictedScoringLossChange: number;
  readonly gradientNorms: { readonly pretrain: number; readonly finetune: number };
}

export interface MeanSdView {
  readonly mean: number;
  readonly sd: number;
  readonly n: number;
}

/** Data cleansing (paper §4.2): the arms, their test metrics and the removed examples. */
export interface CleansePanelModel {
  readonly kind: 'cleanse';
  readonly revision: number;
  readonly title: string;
  readonly configPath: string;
  readonly configLabel: string;
  readonly case: string;
  /** `heldout` or `test`: the points the scores were summed over. */
  readonly by: string;
  readonly percent: number;
  readonly pretrainCount: number;
  readonly requestedCount: number;
  readonly removedCount: number;
  readonly scoringCount: number;
  readonly finetuneTrainCount: number;
  readonly heldoutFraction?: number;
  /** Baseline, cleansed, then the random arms. */
  readonly arms: CleanseArmView[];
  /** Null without random arms. */
  readonly randomSummary: { readonly lossChange: MeanSdView | null; readonly accuracyChange: MeanSdView | null };
  readonly summary: string;
  readonly warnings: string[];
  /** The removed examples, most harmful first. */
  readonly removed: RankedRow[];
  /** Distribution of the scores that chose the removal. */
  readonly histogram: HistogramView;
  readonly backend: string;
  readonly seconds: number;
  readonly examples: ExampleView[];
}

/** Statistics of one score distribution (paper §4.3–4.4), per test point. */
export interface DistributionView {
  readonly count: number;
  readonly mean: number;
  /** Population standard deviation (n in the denominator). */
  readonly sd: number;
  readonly meanAbs: number;
  readonly medianAbs: number;
  readonly maxAbs: number;
  /** Fractions of scores > 0 (harmful) and < 0 (helpful). */
  readonly fractionPositive: number;
  readonly fractionNegative: number;
  /** Quantiles of the signed scores (linear interpolation between order statistics). */
  readonly quantiles: { readonly p: number; readonly value: number }[];
}

export interface SimilaritySideView {
  /** "A" or "B". */
  readonly name: string;
  readonly configPath: string;
  readonly configLabel: string;
  readonly case: string;
  readonly test: string;
  readonly testCount: number;
  readonly pretrainCount: number;
  readonly finetuneTrainCount: number;
  readonly stats: DistributionView;
  /** Per-test-point scores on bins shared with the other side. */
  readonly histogram: HistogramView;
  /** log10 |score per test point| on shared bins. */
  readonly magnitudeHistogram: HistogramView;
  readonly converged: boolean;
  readonly warnings: string[];
}

/** Task similarity and finetuning-set size (paper §4.3–4.4): two score distributions side by side. */
export interface SimilarityPanelModel {
  readonly kind: 'similarity';
  readonly revision: number;
  readonly title: string;
  /** Workspace A's msif.json (the panel's config). */
  readonly configPath: string;
  readonly configLabel: string;
  readonly otherConfigPath: string;
  readonly a: SimilaritySideView;
  readonly b: SimilaritySideView;
  /** A over B, of the mean and median |score per test point|. */
  readonly ratio: { readonly meanAbs: number; readonly medianAbs: number };
  readonly reading: string[];
  readonly seconds: number;
  readonly examples: ExampleView[];
}

export type PanelModel = TracePanelModel | MisclassifiedPanelModel | ComparePanelModel | ValidatePanelModel | CleansePanelModel | SimilarityPanelModel;

/** What a webview keeps with `setState` (and what the panel serializer gets back). */
export interface PanelState {
  readonly kind: PanelKind;
  readonly model?: PanelModel;
  /** The config the panel belongs to (absolute path), for the host after a reload. */
  readonly configPath?: string;
  /** View state: rows shown per list, toggles. */
  readonly ui?: Record<string, number | boolean | string>;
}

// ---------------------------------------------------------------------------------------
// Messages

export interface WebviewReadyParams {
  readonly protocolVersion: number;
  readonly kind: PanelKind;
  /** The revision of the model the webview restored from its state, if any. */
  readonly revision?: number;
}

export interface WebviewReadyResult {
  readonly protocolVersion: number;
  /** Absent when the webview already holds the current revision. */
  readonly model?: PanelModel;
  readonly busy?: BusyParams;
  readonly error?: string;
}

/** webview → host: the handshake; the host answers with the model. */
export const WebviewReadyRequest = new IpcRequest<WebviewReadyParams, WebviewReadyResult>('core', 'webview/ready');

/** host → webview: the panel has a new model (a new trace for the same panel). */
export const DidChangeModelNotification = new IpcNotification<{ readonly model: PanelModel }>('core', 'model/didChange');

export interface BusyParams {
  readonly busy: boolean;
  readonly message?: string;
}

/** host → webview: a job for this panel is running (or no longer). */
export const DidChangeBusyNotification = new IpcNotification<BusyParams>('core', 'busy/didChange');

/** host → webview: the panel cannot show its content (idle or error state). */
export const DidFailNotification = new IpcNotification<{ readonly message: string }>('core', 'error/didChange');

export interface ExampleRef {
  readonly role: DatasetRole;
  readonly index: number;
}

/** webview → host: open the example's dataset file at its line. */
export const OpenExampleCommand = new IpcCommand<ExampleRef>('core', 'example/open');

/** At most this many examples per {@link GetExamplesRequest}. */
export const MAX_EXAMPLES_PER_REQUEST = 200;

/** webview → host: views of dataset examples (for "show more"). */
export const GetExamplesRequest = new IpcRequest<{ readonly role: DatasetRole; readonly indices: number[] }, { readonly examples: ExampleView[] }>(
  'core',
  'examples/get',
);

/** webview → host: a line for the MSIF log (webview errors). */
export const LogCommand = new IpcCommand<{ readonly level: 'info' | 'warn' | 'error'; readonly message: string }>('core', 'log');

/** webview → host (misclassified panel): trace one test point. */
export const TraceTestPointCommand = new IpcCommand<{ readonly index: number }>('misclassified', 'trace');

/** webview → host (misclassified panel): trace the sum over all misclassified test points. */
export const TraceAllMisclassifiedCommand = new IpcCommand('misclassified', 'traceAll');

/** webview → host (trace panel): compare Case 1 and Case 2 for this panel's test selection. */
export const CompareCasesCommand = new IpcCommand('trace', 'compare');

/** webview → host (cleanse panel): write the pretraining set without the removed examples to a file the user picks. */
export const WriteFilteredCommand = new IpcCommand('cleanse', 'writeFiltered');
