/**
 * The engine worker: the entry of `dist/worker.js`, forked by the extension host. It
 * answers the requests of `protocol/engineProtocol.ts` over IPC by running the jobs of
 * `./jobs`, one at a time (TensorFlow.js is single-threaded here).
 */
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, ResponseError } from 'vscode-jsonrpc/node';
import type { CancellationToken } from 'vscode-jsonrpc/node';
import { CancelledError, isCancelled, MsifError } from '../common/errors';
import {
  EngineErrorCodes,
  InitializeRequest,
  LogNotification,
  PROTOCOL_VERSION,
  ProgressNotification,
  ShutdownRequest,
  TraceRequest,
  TrainRequest,
  EvaluateRequest,
  CleanseRequest,
  WriteFilteredRequest,
  SimilarityRequest,
  ValidateRequest,
} from '../protocol/engineProtocol';
import type { EngineErrorData, InitializeParams, InitializeResult, JobParams, LogLevel } from '../protocol/engineProtocol';
import { initBackend } from './backend';
import { runEvaluate, runTrace, runTrain } from './jobs';
import { runCleanse, runWriteFiltered } from './cleanseJob';
import { runSimilarity } from './similarityJob';
import { runValidate } from './validateJob';
import type { JobContext } from './jobs';
import { throttleProgress } from './progressThrottle';

/** How often progress goes to the host, at most. */
const PROGRESS_INTERVAL_MS = 100;
/** How long a fatal error waits for its log line to reach the host before exiting. */
const FATAL_EXIT_GRACE_MS = 1000;

const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));

let initialized: Promise<InitializeResult> | undefined;
/** The tail of the job queue; each job starts when the one before it has settled. */
let queue: Promise<unknown> = Promise.resolve();
/** Abort controllers of the jobs running or queued. */
const jobs = new Set<AbortController>();
let shuttingDown = false;

/** Sends a log line to the host. */
function log(level: LogLevel, message: string): Promise<void> {
  return connection.sendNotification(LogNotification.type, { level, message });
}

/** Turns a job's failure into the response the protocol prescribes. */
function toResponseError(e: unknown, what: string, aborted: boolean): ResponseError<EngineErrorData | undefined> {
  if (isCancelled(e) || aborted) {
    return new ResponseError(EngineErrorCodes.RequestCancelled, `${what} was cancelled`, undefined);
  }
  if (e instanceof MsifError) {
    void log('error', `${what} failed: ${e.message}`);
    return new ResponseError(EngineErrorCodes.JobFailed, e.message, { code: e.code, location: e.location });
  }
  const message = e instanceof Error ? e.message : String(e);
  void log('error', `${what} failed unexpectedly: ${e instanceof Error && e.stack ? e.stack : message}`);
  return new ResponseError(EngineErrorCodes.JobFailed, message, { code: 'internal', location: {} });
}

/**
 * Adapts a job function to a request handler: waits for the handshake and for the jobs
 * queued before it, links the request's cancellation to the job's AbortSignal (a job
 * cancelled while queued answers at once), and forwards throttled progress to the
 * request's `workDoneToken`.
 */
function jobHandler<P extends JobParams, R>(what: string, run: (params: P, ctx: JobContext) => Promise<R>) {
  return async (params: P, token: CancellationToken): Promise<R> => {
    if (initialized === undefined) {
      throw new ResponseError<EngineErrorData>(EngineErrorCodes.NotInitialized, `${what} before ${InitializeRequest.method}`, {
        code: 'internal',
        location: {},
      });
    }
    const controller = new AbortController();
    const { signal } = controller;
    const cancel = token.onCancellationRequested(() => controller.abort());
    if (token.isCancellationRequested || shuttingDown) controller.abort();
    jobs.add(controller);
    const { workDoneToken } = params;
    const progress =
      workDoneToken === undefined
        ? undefined
        : throttleProgress((p) => void connection.sendProgress(ProgressNotification.type, workDoneToken, p), PROGRESS_INTERVAL_MS);
    const ctx: JobContext = {
      signal,
      ...(progress ? { onProgress: progress.push } : {}),
      log: (line) => void log('info', line),
    };
    const turn = queue;
    const ready = initialized;
    const result = (async () => {
      await Promise.race([Promise.all([ready, turn]), abortion(signal)]);
      if (signal.aborted) throw new CancelledError(what);
      return run(params, ctx);
    })();
    queue = turn.then(() => result.catch(() => undefined));
    try {
      return await result;
    } catch (e) {
      throw toResponseError(e, what, signal.aborted);
    } finally {
      cancel.dispose();
      progress?.dispose();
      jobs.delete(controller);
    }
  };
}

/** Resolves when `signal` aborts. */
function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Chooses the backend; the answer to the first successful {@link InitializeRequest}. */
async function handshake(params: InitializeParams): Promise<InitializeResult> {
  try {
    const choice = await initBackend(params.backend, params.backendPackagesDir ? { packageDirs: [params.backendPackagesDir] } : {});
    return { protocolVersion: PROTOCOL_VERSION, backend: choice.name, backendReason: choice.reason, pid: process.pid };
  } finally {
    dropForeignFatalHandlers();
  }
}

connection.onRequest(InitializeRequest.type, async (params) => {
  if (params.protocolVersion !== PROTOCOL_VERSION) {
    const e = new MsifError('internal', `the host speaks protocol ${params.protocolVersion}, this worker ${PROTOCOL_VERSION}`);
    throw toResponseError(e, 'initialize', false);
  }
  const attempt = initialized ?? handshake(params);
  initialized = attempt;
  try {
    return await attempt;
  } catch (e) {
    if (initialized === attempt) initialized = undefined;
    throw toResponseError(e, 'initialize', false);
  }
});

connection.onRequest(
  TraceRequest.type,
  jobHandler('trace', ({ configPath, workDoneToken: _, ...options }, ctx) => runTrace(configPath, options, ctx)),
);

connection.onRequest(TrainRequest.type, jobHandler('train', ({ configPath }, ctx) => runTrain(configPath, ctx)));

connection.onRequest(EvaluateRequest.type, jobHandler('evaluate', ({ configPath }, ctx) => runEvaluate(configPath, ctx)));

connection.onRequest(
  CleanseRequest.type,
  jobHandler('cleanse', ({ configPath, workDoneToken: _, ...options }, ctx) => runCleanse(configPath, options, ctx)),
);

connection.onRequest(
  WriteFilteredRequest.type,
  jobHandler('write filtered dataset', ({ configPath, workDoneToken: _, ...options }, ctx) => runWriteFiltered(configPath, options, ctx)),
);

connection.onRequest(
  SimilarityRequest.type,
  jobHandler('similarity', ({ configPath, otherConfigPath, workDoneToken: _, ...options }, ctx) => runSimilarity(configPath, otherConfigPath, options, ctx)),
);

connection.onRequest(
  ValidateRequest.type,
  jobHandler('validate', ({ configPath, workDoneToken: _, ...options }, ctx) => runValidate(configPath, options, ctx)),
);

connection.onRequest(ShutdownRequest.type, () => {
  shuttingDown = true;
  for (const job of jobs) job.abort();
  return null;
});

/** Reports an error nothing caught, then exits: the process state is unknown. */
function fatal(kind: string, e: unknown): void {
  const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
  setTimeout(() => process.exit(1), FATAL_EXIT_GRACE_MS).unref();
  void log('error', `${kind}: ${detail}`).finally(() => process.exit(1));
}

const onUncaughtException = (e: unknown): void => fatal('uncaughtException', e);
const onUnhandledRejection = (e: unknown): void => fatal('unhandledRejection', e);
process.on('uncaughtException', onUncaughtException);
process.on('unhandledRejection', onUnhandledRejection);

/**
 * Removes the fatal-error handlers that loading a backend added: the wasm backend's
 * Emscripten runtime installs ones that rethrow every error (exit code 7) before this
 * worker's handlers could report it.
 */
function dropForeignFatalHandlers(): void {
  for (const listener of process.listeners('uncaughtException')) {
    if (listener !== onUncaughtException) process.off('uncaughtException', listener);
  }
  for (const listener of process.listeners('unhandledRejection')) {
    if (listener !== onUnhandledRejection) process.off('unhandledRejection', listener);
  }
}
// The host closed the channel (after ShutdownRequest, or because it went away).
process.on('disconnect', () => process.exit(0));

connection.listen();
