/**
 * A host-agnostic client for the engine worker: forks `dist/worker.js`, performs the
 * handshake and offers typed job calls with cancellation and progress. The VS Code host
 * wraps it (lazy start, restarts, logging); it needs nothing from VS Code itself.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  CancellationTokenSource,
  createMessageConnection,
  IPCMessageReader,
  IPCMessageWriter,
  ResponseError,
} from 'vscode-jsonrpc/node';
import type { CancellationToken, MessageConnection } from 'vscode-jsonrpc/node';
import { CancelledError, MsifError } from '../common/errors';
import type { MsifErrorCode } from '../common/errors';
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
import type { BackendPreference, EngineErrorData, InitializeParams, InitializeResult, LogLevel } from '../protocol/engineProtocol';
import type { JobProgress } from '../protocol/progress';
import type { TraceReport } from '../protocol/report';
import type { EvaluateResult, TraceOptions, TrainResult } from '../protocol/jobTypes';
import type { CleanseOptions, CleanseReport, WriteFilteredOptions, WriteFilteredResult } from '../protocol/cleanseReport';
import type { SimilarityOptions, SimilarityReport } from '../protocol/similarityReport';
import type { ValidateOptions, ValidateReport } from '../protocol/validateReport';

/** How to start the worker. */
export interface WorkerClientOptions {
  /** Path of the worker bundle (`dist/worker.js`). */
  readonly workerPath: string;
  /** The Node.js (or Electron) binary; default `process.execPath`. The child always gets `ELECTRON_RUN_AS_NODE=1`. */
  readonly execPath?: string;
  /** Runtime flags for the child (e.g. `--inspect`); default none, not the parent's. */
  readonly execArgv?: readonly string[];
  readonly backend?: BackendPreference;
  /** Where tfjs-node(-gpu) may have been installed by the extension ({@link InitializeParams.backendPackagesDir}). */
  readonly backendPackagesDir?: string;
  /** The worker's log lines, and its stdout/stderr output line by line. */
  readonly onLog?: (level: LogLevel, message: string) => void;
  /** Called once when the worker process has exited, expectedly or not. */
  readonly onExit?: (error: Error) => void;
}

/** Per-call options of a job. */
export interface JobCallOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: JobProgress) => void;
}

/** How long {@link WorkerClient.dispose} waits for a graceful exit before killing. */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * A running worker. Every pending call settles when the worker exits: rejected with an
 * error saying so. A cancelled call rejects with a {@link CancelledError}; a failed job
 * with an {@link MsifError} carrying the worker's code, location and message.
 */
export class WorkerClient {
  /** What the worker reported in the handshake. */
  readonly info: InitializeResult;
  private readonly child: ChildProcess;
  private readonly connection: MessageConnection;
  /** Rejects when the worker exits; every call races against it. */
  private readonly exited: Promise<never>;
  private nextProgressToken = 0;
  private disposed = false;

  private constructor(child: ChildProcess, connection: MessageConnection, exited: Promise<never>, info: InitializeResult) {
    this.child = child;
    this.connection = connection;
    this.exited = exited;
    this.info = info;
  }

  /** Forks the worker and completes the handshake. */
  static async start(options: WorkerClientOptions): Promise<WorkerClient> {
    const child = fork(options.workerPath, [], {
      execPath: options.execPath ?? process.execPath,
      execArgv: [...(options.execArgv ?? [])],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const onLog = options.onLog ?? (() => undefined);
    forwardLines(child.stdout, (line) => onLog('info', line));
    forwardLines(child.stderr, (line) => onLog('warn', line));

    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    connection.onNotification(LogNotification.type, ({ level, message }) => onLog(level, message));
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new MsifError('internal', `MSIF worker could not run: ${e.message}`)));
      child.once('exit', (code, signal) =>
        reject(new MsifError('internal', `MSIF worker exited (${signal ? `signal ${signal}` : `code ${code}`})`)),
      );
    });
    exited.catch((e: Error) => {
      connection.dispose();
      options.onExit?.(e);
    });
    connection.listen();
    const params: InitializeParams = {
      protocolVersion: PROTOCOL_VERSION,
      backend: options.backend ?? 'auto',
      ...(options.backendPackagesDir !== undefined ? { backendPackagesDir: options.backendPackagesDir } : {}),
    };
    try {
      const info = await settle(exited, 'initialize', () => connection.sendRequest(InitializeRequest.type, params));
      return new WorkerClient(child, connection, exited, info);
    } catch (e) {
      child.kill();
      throw e;
    }
  }

  /** Runs `msif trace` in the worker: scores every pretraining example for the selected test points. */
  trace(configPath: string, options: TraceOptions, call: JobCallOptions = {}): Promise<TraceReport> {
    return this.job('trace', call, (workDoneToken, token) =>
      this.connection.sendRequest(TraceRequest.type, { ...options, configPath, workDoneToken }, token),
    );
  }

  /** Every test point with its label, prediction and loss, and which are misclassified. */
  evaluate(configPath: string, call: JobCallOptions = {}): Promise<EvaluateResult> {
    return this.job('evaluate', call, (workDoneToken, token) =>
      this.connection.sendRequest(EvaluateRequest.type, { configPath, workDoneToken }, token),
    );
  }

  /** Runs `msif train` in the worker: trains both stages and writes the models. */
  train(configPath: string, call: JobCallOptions = {}): Promise<TrainResult> {
    return this.job('train', call, (workDoneToken, token) =>
      this.connection.sendRequest(TrainRequest.type, { configPath, workDoneToken }, token),
    );
  }

  /** Runs `msif cleanse` in the worker (paper §4.2); retrained models stay in the worker's memory. */
  cleanse(configPath: string, options: CleanseOptions, call: JobCallOptions = {}): Promise<CleanseReport> {
    return this.job('cleanse', call, (workDoneToken, token) =>
      this.connection.sendRequest(CleanseRequest.type, { ...options, configPath, workDoneToken }, token),
    );
  }

  /** Writes the workspace's pretraining set without the examples at `options.exclude` to a new JSON Lines file. */
  writeFiltered(configPath: string, options: WriteFilteredOptions, call: JobCallOptions = {}): Promise<WriteFilteredResult> {
    return this.job('write filtered dataset', call, (workDoneToken, token) =>
      this.connection.sendRequest(WriteFilteredRequest.type, { ...options, configPath, workDoneToken }, token),
    );
  }

  /** Runs `msif similarity` in the worker: traces two workspaces and compares their score distributions. */
  similarity(configPath: string, otherConfigPath: string, options: SimilarityOptions, call: JobCallOptions = {}): Promise<SimilarityReport> {
    return this.job('similarity', call, (workDoneToken, token) =>
      this.connection.sendRequest(SimilarityRequest.type, { ...options, configPath, otherConfigPath, workDoneToken }, token),
    );
  }

  /** Runs `msif validate` in the worker: the leave-one-out check (paper, Fig. 2). */
  validate(configPath: string, options: ValidateOptions, call: JobCallOptions = {}): Promise<ValidateReport> {
    return this.job('validate', call, (workDoneToken, token) =>
      this.connection.sendRequest(ValidateRequest.type, { ...options, configPath, workDoneToken }, token),
    );
  }

  /**
   * Stops the worker: asks it to cancel its jobs and closes the channel, on which it
   * exits; kills it if it has not exited within a grace period. Pending calls reject.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = this.exited.catch(() => undefined);
    const timeout = setTimeout(() => this.child.kill(), SHUTDOWN_GRACE_MS);
    try {
      await Promise.race([this.connection.sendRequest(ShutdownRequest.type), gone]);
      if (this.child.connected) this.child.disconnect();
    } catch {
      this.child.kill();
    }
    await gone;
    clearTimeout(timeout);
  }

  private async job<R>(
    what: string,
    call: JobCallOptions,
    send: (workDoneToken: number | undefined, token: CancellationToken) => Promise<R>,
  ): Promise<R> {
    if (this.disposed) throw new MsifError('internal', 'MSIF worker was disposed');
    if (call.signal?.aborted) throw new CancelledError(what);
    const source = new CancellationTokenSource();
    const onAbort = (): void => source.cancel();
    call.signal?.addEventListener('abort', onAbort, { once: true });
    const workDoneToken = call.onProgress ? this.nextProgressToken++ : undefined;
    const progress =
      call.onProgress && workDoneToken !== undefined
        ? this.connection.onProgress(ProgressNotification.type, workDoneToken, call.onProgress)
        : undefined;
    try {
      return await settle(this.exited, what, () => send(workDoneToken, source.token));
    } finally {
      call.signal?.removeEventListener('abort', onAbort);
      progress?.dispose();
      source.dispose();
    }
  }
}

/**
 * Sends a request and awaits its answer, or the worker's exit if that comes first (or
 * came before); maps error responses to MsifErrors.
 */
async function settle<R>(exited: Promise<never>, what: string, send: () => Promise<R>): Promise<R> {
  try {
    return await Promise.race([exited, Promise.resolve().then(send)]);
  } catch (e) {
    if (!(e instanceof ResponseError)) throw e;
    if (e.code === EngineErrorCodes.RequestCancelled) throw new CancelledError(what);
    const data = e.data as EngineErrorData | undefined;
    const code: MsifErrorCode = data?.code ?? 'internal';
    // Rebuild the worker's error: same code and location, and its message verbatim.
    const error = new MsifError(code, '', data?.location ?? {});
    error.message = e.message;
    throw error;
  }
}

/** Calls `onLine` for each line the stream produces. */
function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
  });
}
