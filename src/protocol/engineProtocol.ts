/**
 * The messages between the extension host and the engine worker (`dist/worker.js`), over
 * vscode-jsonrpc on `fork` IPC. One namespace per message, each naming its direction.
 *
 * Conventions:
 * - Payloads are JSON only.
 * - The host sends {@link InitializeRequest} first; other requests before it fail with
 *   {@link EngineErrorCodes.NotInitialized}.
 * - Cancellation is vscode-jsonrpc's `$/cancelRequest`; a cancelled job answers with
 *   {@link EngineErrorCodes.RequestCancelled}.
 * - Progress is vscode-jsonrpc's `$/progress` ({@link ProgressNotification}), addressed
 *   by the `workDoneToken` the host put in the request.
 * - A failed job answers with {@link EngineErrorCodes.JobFailed} and {@link EngineErrorData}.
 */
import { NotificationType, ProgressType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { ProgressToken } from 'vscode-jsonrpc';
import type { ErrorLocation, MsifErrorCode } from '../common/errors';
import type { EvaluateResult, TraceOptions, TrainResult } from './jobTypes';
import type { JobProgress } from './progress';
import type { TraceReport } from './report';
import type { CleanseOptions, CleanseReport, WriteFilteredOptions, WriteFilteredResult } from './cleanseReport';
import type { SimilarityOptions, SimilarityReport } from './similarityReport';
import type { ValidateOptions, ValidateReport } from './validateReport';

/** Bumped on any incompatible change to the messages below. */
export const PROTOCOL_VERSION = 1;

/**
 * TensorFlow.js backends, in the order `auto` tries them. `native` is the cpu backend with
 * its hot kernels in an optional addon on a system BLAS (src/worker/native/).
 */
export const BACKEND_NAMES = ['tensorflow', 'native', 'wasm', 'cpu'] as const;

/** `auto` takes the first backend that starts; a name asks for exactly that one. */
export type BackendPreference = 'auto' | (typeof BACKEND_NAMES)[number];

/** The accepted backend preferences (`--backend`, the handshake, `MSIF_BACKEND`). */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', ...BACKEND_NAMES];

/** The handshake's parameters. */
export interface InitializeParams {
  readonly protocolVersion: number;
  readonly backend: BackendPreference;
  /**
   * The npm prefix "MSIF: Install TensorFlow backend" installs into (the extension's
   * `<globalStorage>/backends`): tfjs-node(-gpu) is looked for there first.
   */
  readonly backendPackagesDir?: string;
}

/** The handshake's answer: what the worker runs on. */
export interface InitializeResult {
  readonly protocolVersion: number;
  /** The TensorFlow.js backend in use (`tf.getBackend()`). */
  readonly backend: string;
  /** Why that backend, and why the ones before it were skipped. */
  readonly backendReason: string;
  readonly pid: number;
}

/** Fields every job request carries. */
export interface JobParams {
  /** Absolute path of the `msif.json` file. */
  readonly configPath: string;
  /** Where to send {@link ProgressNotification}s; no progress is sent without it. */
  readonly workDoneToken?: ProgressToken;
}

/** The parameters of {@link TraceRequest}. */
export type TraceParams = JobParams & TraceOptions;

/** The parameters of {@link TrainRequest}. */
export type TrainParams = JobParams;

/** The parameters of {@link EvaluateRequest}. */
export type EvaluateParams = JobParams;

/** The worker's log line severities. */
export type LogLevel = 'info' | 'warn' | 'error';

/** The parameters of {@link LogNotification}. */
export interface LogParams {
  readonly level: LogLevel;
  /** One line, or a stack trace for `error`. */
  readonly message: string;
}

/** The `data` of a {@link EngineErrorCodes.JobFailed} (and NotInitialized) error response. */
export interface EngineErrorData {
  /** The MsifError code; `internal` for an unexpected error. */
  readonly code: MsifErrorCode;
  readonly location: ErrorLocation;
}

/** Error codes the worker answers with, besides vscode-jsonrpc's own. */
export namespace EngineErrorCodes {
  /** The request was cancelled (LSP's RequestCancelled); not a failure. */
  export const RequestCancelled = -32800;
  /** The job failed; `data` is an {@link EngineErrorData}, `message` the one-line error. */
  export const JobFailed = -32001;
  /** A job request arrived before {@link InitializeRequest}. */
  export const NotInitialized = -32002;
}

/** host → worker: the handshake. Chooses the backend; must precede every other request. */
export namespace InitializeRequest {
  export const method = 'msif/initialize' as const;
  export const type = new RequestType<InitializeParams, InitializeResult, void>(method);
}

/** host → worker: traces test predictions back to pretraining examples (contract §5). */
export namespace TraceRequest {
  export const method = 'msif/trace' as const;
  export const type = new RequestType<TraceParams, TraceReport, void>(method);
}

/** host → worker: every test point with its label, prediction and loss, and which are misclassified. */
export namespace EvaluateRequest {
  export const method = 'msif/evaluate' as const;
  export const type = new RequestType<EvaluateParams, EvaluateResult, void>(method);
}

/** host → worker: trains both stages from the workspace's `training` settings. */
export namespace TrainRequest {
  export const method = 'msif/train' as const;
  export const type = new RequestType<TrainParams, TrainResult, void>(method);
}

/** The parameters of {@link CleanseRequest}. */
export type CleanseParams = JobParams & CleanseOptions;

/** host → worker: data cleansing (paper §4.2): remove the top p% harmful pretraining examples, retrain, compare with random removals. */
export namespace CleanseRequest {
  export const method = 'msif/cleanse' as const;
  export const type = new RequestType<CleanseParams, CleanseReport, void>(method);
}

/** The parameters of {@link WriteFilteredRequest}. */
export type WriteFilteredParams = JobParams & WriteFilteredOptions;

/** host → worker: writes the pretraining dataset without some examples to a new JSON Lines file. */
export namespace WriteFilteredRequest {
  export const method = 'msif/writeFiltered' as const;
  export const type = new RequestType<WriteFilteredParams, WriteFilteredResult, void>(method);
}

/** The parameters of {@link SimilarityRequest}: `configPath` is workspace A, `otherConfigPath` workspace B. */
export type SimilarityParams = JobParams & SimilarityOptions & { readonly otherConfigPath: string };

/** host → worker: traces two workspaces and compares their score distributions (paper §4.3–4.4). */
export namespace SimilarityRequest {
  export const method = 'msif/similarity' as const;
  export const type = new RequestType<SimilarityParams, SimilarityReport, void>(method);
}

/** The parameters of {@link ValidateRequest}. */
export type ValidateParams = JobParams & ValidateOptions;

/** host → worker: the leave-one-out check (paper, Fig. 2): retrains without N sampled pretraining examples and correlates predicted with actual changes of the test loss. */
export namespace ValidateRequest {
  export const method = 'msif/validate' as const;
  export const type = new RequestType<ValidateParams, ValidateReport, void>(method);
}

/** worker → host: progress of a job, throttled to about 100 ms, sent to its `workDoneToken`. */
export namespace ProgressNotification {
  export const type = new ProgressType<JobProgress>();
}

/** worker → host: a diagnostic line, or an uncaught error just before the worker exits. */
export namespace LogNotification {
  export const method = 'msif/log' as const;
  export const type = new NotificationType<LogParams>(method);
}

/** host → worker: cancels all jobs, answers, then exits with code 0. */
export namespace ShutdownRequest {
  export const method = 'msif/shutdown' as const;
  export const type = new RequestType0<null, void>(method);
}
