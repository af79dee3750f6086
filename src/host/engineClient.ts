/**
 * The engine worker as the extension host sees it: started lazily on the first request,
 * restarted lazily after it dies (bounded by a {@link RestartPolicy}; past the bound the
 * user is asked), stopped on dispose. Every pending request settles when the worker
 * dies, with an error that says so. Free of the `vscode` module: the host passes in how
 * to launch, log and ask.
 */
import { isCancelled, MsifError } from '../common/errors';
import type { BackendPreference, InitializeResult, LogLevel } from '../protocol/engineProtocol';
import type { EvaluateResult, TraceOptions } from '../protocol/jobTypes';
import type { TestPointSummary, TraceReport } from '../protocol/report';
import type { CleanseOptions, CleanseReport, WriteFilteredOptions, WriteFilteredResult } from '../protocol/cleanseReport';
import type { SimilarityOptions, SimilarityReport } from '../protocol/similarityReport';
import type { ValidateOptions, ValidateReport } from '../protocol/validateReport';
import { WorkerClient } from '../worker/workerClient';
import type { JobCallOptions, WorkerClientOptions } from '../worker/workerClient';
import { Disposable, Emitter } from './lifecycle';
import { RestartPolicy } from './restartPolicy';

/** What the host needs of a running worker; {@link WorkerClient} is one. */
export interface EngineWorker {
  readonly info: InitializeResult;
  trace(configPath: string, options: TraceOptions, call?: JobCallOptions): Promise<TraceReport>;
  /** Every test point's label, prediction and loss, without influence. */
  evaluate(configPath: string, call?: JobCallOptions): Promise<EvaluateResult>;
  /** Data cleansing (paper §4.2); optional: a worker without it answers with an error. */
  cleanse?(configPath: string, options: CleanseOptions, call?: JobCallOptions): Promise<CleanseReport>;
  writeFiltered?(configPath: string, options: WriteFilteredOptions, call?: JobCallOptions): Promise<WriteFilteredResult>;
  /** Score distributions of two workspaces (paper §4.3–4.4); optional like `cleanse`. */
  similarity?(configPath: string, otherConfigPath: string, options: SimilarityOptions, call?: JobCallOptions): Promise<SimilarityReport>;
  /** The leave-one-out check (paper, Fig. 2); optional like `cleanse`. */
  validate?(configPath: string, options: ValidateOptions, call?: JobCallOptions): Promise<ValidateReport>;
  dispose(): Promise<void>;
}

/** The job `what` of a worker that lacks it (a test double): a clear error, not a crash. */
function missingJob(what: string): never {
  throw new MsifError('internal', `this MSIF worker cannot run ${what}`);
}

/** How to start the worker, read at every start (settings may have changed). */
export interface WorkerLaunch {
  /** The Node.js binary; undefined: the extension host's own (`process.execPath`). */
  readonly execPath?: string;
  readonly backend: BackendPreference;
  /** Where "MSIF: Install TensorFlow backend" installs tfjs-node(-gpu); the worker looks there first. */
  readonly backendPackagesDir?: string;
}

export interface HostLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface EngineClientOptions {
  /** `dist/worker.js`. */
  readonly workerPath: string;
  readonly launch: () => WorkerLaunch;
  readonly log: HostLog;
  /** The worker's own log lines and its stdout/stderr. */
  readonly onWorkerLog: (level: LogLevel, message: string) => void;
  /**
   * Asked before a restart once the worker has died `policy.maxCrashes` times within the
   * policy's window; true restarts it (and forgets the crashes).
   */
  readonly confirmRestart: (crashes: number, windowMs: number) => Promise<boolean>;
  readonly policy?: RestartPolicy;
  readonly now?: () => number;
  /** Starts a worker; default {@link WorkerClient.start} (tests substitute it). */
  readonly startWorker?: (options: WorkerClientOptions) => Promise<EngineWorker>;
}

/** A job failed because the worker process died (or was restarted) under it. */
export class WorkerStoppedError extends MsifError {
  constructor(message: string) {
    super('internal', message);
    this.name = 'WorkerStoppedError';
  }
}

/** One worker process, from its start to its exit. */
interface WorkerSlot {
  readonly promise: Promise<EngineWorker>;
  worker?: EngineWorker;
  /** The process has exited (or never started). */
  exited: boolean;
  /** The host stopped it (dispose, restart, settings change): not a crash. */
  expected: boolean;
  exitReason?: string;
}

export class EngineClient extends Disposable {
  private current: WorkerSlot | undefined;
  private readonly policy: RestartPolicy;
  private readonly now: () => number;
  private asking: Promise<boolean> | undefined;
  /** Requests in flight. */
  private pending = 0;
  /** Settings changed: start a new worker once the current one is idle. */
  private stale = false;
  private stopping: Promise<void> = Promise.resolve();
  private readonly onDidStartEmitter = this._register(new Emitter<InitializeResult>());
  /** Fires when a worker has completed its handshake. */
  readonly onDidStart = this.onDidStartEmitter.event;

  constructor(private readonly options: EngineClientOptions) {
    super();
    this.policy = options.policy ?? new RestartPolicy();
    this.now = options.now ?? Date.now;
  }

  /** The running worker's handshake, if one is running. */
  get info(): InitializeResult | undefined {
    return this.current && !this.current.exited ? this.current.worker?.info : undefined;
  }

  /** Traces test predictions back to pretraining examples (contract §5). */
  trace(configPath: string, options: TraceOptions, call: JobCallOptions = {}): Promise<TraceReport> {
    return this.run('the trace', (w) => w.trace(configPath, options, call));
  }

  /** Every test point's label, prediction and loss, in dataset order, from the worker's evaluation job. */
  evaluateTestPoints(configPath: string, call: JobCallOptions = {}): Promise<TestPointSummary[]> {
    return this.run('the evaluation', async (w) => (await w.evaluate(configPath, call)).test);
  }

  /** Data cleansing (paper §4.2): retrains both stages without the top p% harmful pretraining examples. */
  cleanse(configPath: string, options: CleanseOptions, call: JobCallOptions = {}): Promise<CleanseReport> {
    return this.run('data cleansing', (w) => (w.cleanse ? w.cleanse(configPath, options, call) : missingJob('data cleansing')));
  }

  /** Writes the pretraining set without some examples to a new JSON Lines file. */
  writeFiltered(configPath: string, options: WriteFilteredOptions, call: JobCallOptions = {}): Promise<WriteFilteredResult> {
    return this.run('writing the filtered dataset', (w) => (w.writeFiltered ? w.writeFiltered(configPath, options, call) : missingJob('writing a filtered dataset')));
  }

  /** Traces two workspaces and compares their score distributions (paper §4.3–4.4). */
  similarity(configPath: string, otherConfigPath: string, options: SimilarityOptions, call: JobCallOptions = {}): Promise<SimilarityReport> {
    return this.run('the similarity comparison', (w) => (w.similarity ? w.similarity(configPath, otherConfigPath, options, call) : missingJob('the similarity comparison')));
  }

  /** The leave-one-out check (paper, Fig. 2): retrains without sampled pretraining examples. */
  validate(configPath: string, options: ValidateOptions, call: JobCallOptions = {}): Promise<ValidateReport> {
    return this.run('the leave-one-out check', (w) => (w.validate ? w.validate(configPath, options, call) : missingJob('the leave-one-out check')));
  }

  /** Stops the worker (if any), forgets past crashes and starts a new one. */
  async restart(): Promise<InitializeResult> {
    this.policy.reset();
    await this.stopCurrent();
    const slot = await this.ensureWorker();
    return (await slot.promise).info;
  }

  /** Settings that affect the launch changed: the next request gets a new worker. */
  invalidate(): void {
    if (this.current) this.stale = true;
  }

  /** Resolves when the last worker has stopped (after dispose). */
  whenStopped(): Promise<void> {
    return this.stopping;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    void this.stopCurrent();
  }

  private async run<R>(what: string, job: (worker: EngineWorker) => Promise<R>): Promise<R> {
    this.pending++;
    try {
      const slot = await this.ensureWorker();
      const worker = await slot.promise;
      try {
        return await job(worker);
      } catch (e) {
        if (isCancelled(e) || !slot.exited) throw e;
        if (slot.expected) {
          throw new WorkerStoppedError(`The MSIF worker was stopped while running ${what}; run it again.`);
        }
        throw new WorkerStoppedError(
          `The MSIF worker stopped unexpectedly while running ${what} (${slot.exitReason ?? (e as Error).message}). ` +
            'It will be restarted for the next request; "MSIF: Show log" has its output.',
        );
      }
    } finally {
      this.pending--;
    }
  }

  private async ensureWorker(): Promise<WorkerSlot> {
    if (this.isDisposed) throw new MsifError('internal', 'MSIF is shutting down');
    if (this.current && !this.current.exited && this.stale && this.pending <= 1) {
      this.options.log.info('restarting the MSIF worker: its settings changed');
      await this.stopCurrent();
    }
    if (this.current && !this.current.exited) return this.current;
    if (this.policy.mustAsk(this.now())) {
      const crashes = this.policy.recentCrashes(this.now());
      this.asking ??= this.options.confirmRestart(crashes, this.policy.windowMs).finally(() => {
        this.asking = undefined;
      });
      const ok = await this.asking;
      if (!ok) {
        throw new MsifError(
          'internal',
          `The MSIF worker stopped ${crashes} times within ${Math.round(this.policy.windowMs / 60000)} minutes and was not restarted. ` +
            'Run "MSIF: Restart worker" to start it again.',
        );
      }
      this.policy.reset();
      if (this.current && !this.current.exited) return this.current; // another caller restarted it meanwhile
    }
    return this.start();
  }

  private start(): WorkerSlot {
    this.stale = false;
    const launch = this.options.launch();
    const startWorker = this.options.startWorker ?? ((o: WorkerClientOptions) => WorkerClient.start(o));
    const slot: { -readonly [K in keyof WorkerSlot]: WorkerSlot[K] } = {
      promise: undefined as unknown as Promise<EngineWorker>,
      exited: false,
      expected: false,
    };
    const binary = launch.execPath ?? 'the VS Code runtime';
    this.options.log.info(`starting the MSIF worker (${this.options.workerPath}) with ${binary}, backend ${launch.backend}`);
    slot.promise = startWorker({
      workerPath: this.options.workerPath,
      ...(launch.execPath !== undefined ? { execPath: launch.execPath } : {}),
      backend: launch.backend,
      ...(launch.backendPackagesDir !== undefined ? { backendPackagesDir: launch.backendPackagesDir } : {}),
      onLog: this.options.onWorkerLog,
      onExit: (error) => this.onExit(slot, error),
    }).then(
      (worker) => {
        slot.worker = worker;
        if (this.isDisposed || slot.expected) {
          void worker.dispose();
          throw new MsifError('internal', 'MSIF is shutting down');
        }
        // The reason starts with the backend's name: e.g. `native: the first available backend; not tensorflow (…)`.
        this.options.log.info(`MSIF worker ${worker.info.pid} ready: backend ${worker.info.backendReason || worker.info.backend}`);
        this.onDidStartEmitter.fire(worker.info);
        return worker;
      },
      (e: unknown) => {
        slot.exited = true;
        if (this.current === slot) this.current = undefined;
        const reason = e instanceof Error ? e.message : String(e);
        if (e instanceof MsifError && e.code !== 'internal') {
          // The worker ran and refused (e.g. a backend that cannot start): not a crash.
          throw e;
        }
        this.policy.recordCrash(this.now());
        throw new MsifError('internal', `Could not start the MSIF worker with ${binary}: ${reason}`);
      },
    );
    // Handled by every caller; this keeps an unawaited failure from being reported as unhandled.
    slot.promise.catch(() => undefined);
    this.current = slot;
    return slot;
  }

  private onExit(slot: WorkerSlot & { exited: boolean; exitReason?: string }, error: Error): void {
    slot.exited = true;
    slot.exitReason = error.message;
    if (this.current === slot) this.current = undefined;
    if (slot.expected || this.isDisposed || slot.worker === undefined) return;
    this.policy.recordCrash(this.now());
    this.options.log.warn(`${error.message}; it will be restarted on the next request`);
  }

  /** Stops the current worker, if any, and waits for it to exit. */
  private stopCurrent(): Promise<void> {
    const slot = this.current;
    this.current = undefined;
    if (!slot) return this.stopping;
    slot.expected = true;
    const stopped = slot.promise.then(
      (w) => w.dispose(),
      () => undefined,
    );
    this.stopping = Promise.all([this.stopping, stopped]).then(() => undefined);
    return this.stopping;
  }
}
