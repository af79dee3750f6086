/**
 * Runs traces for the commands and panels, and never twice: results are cached in memory
 * by a key over the config text, the model and dataset files, the case, the test
 * selection and the settings that change the result; a trace already running for the
 * same key is joined rather than started again.
 */
import type { DatasetSpec } from '../common/workspaceConfig';
import type { EmbeddingCase } from '../common/workspaceConfig';
import type { TraceOptions } from '../protocol/jobTypes';
import type { TestPointSummary, TraceReport } from '../protocol/report';
import { traceCacheKey } from './cache/cacheKey';
import { FingerprintCache, modelWeightFiles } from './cache/fileFingerprint';
import { InFlight, LruCache } from './cache/lruCache';
import type { LoadedConfig } from './configRegistry';
import type { EngineClient } from './engineClient';
import { Disposable } from './lifecycle';
import { CANCELLED, withJobProgress } from './progress/withJobProgress';
import type { Cancelled } from './progress/withJobProgress';
import type { Settings } from './settings';
import type { TraceEntry, TraceStore } from './traceStore';
import { traceRequestOptions } from './traceSettings';
import type { TraceSelection } from './traceSettings';
import type * as vscode from 'vscode';

/** Reports kept in memory. A report of 24,000 scores is about 200 kB. */
export const RESULT_CACHE_SIZE = 32;

export interface TraceResult {
  readonly entry: TraceEntry;
  readonly report: TraceReport;
  readonly cached: boolean;
}

/** The files a dataset spec reads. */
function datasetFiles(spec: DatasetSpec): string[] {
  return spec.format === 'jsonl' ? [spec.path] : [spec.x, spec.y];
}

export class TraceService extends Disposable {
  private readonly cache = new LruCache<string, TraceReport>(RESULT_CACHE_SIZE);
  private readonly inFlight = new InFlight<string, TraceReport | Cancelled>();
  private readonly fingerprints = new FingerprintCache();
  private readonly evaluations = new InFlight<string, TestPointSummary[] | Cancelled>();

  constructor(
    private readonly engine: EngineClient,
    private readonly store: TraceStore,
    private readonly settings: Settings,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
  }

  /** The case a selection resolves to (the config's `finetune.embedding` unless given). */
  resolveCase(entry: LoadedConfig, selection: TraceSelection): EmbeddingCase {
    return selection.case ?? entry.config.finetune.embedding;
  }

  /** The cache key and the worker options of a trace. */
  async prepare(entry: LoadedConfig, selection: TraceSelection): Promise<{ key: string; kase: EmbeddingCase; options: TraceOptions }> {
    const { config } = entry;
    const kase = this.resolveCase(entry, selection);
    const options = traceRequestOptions({ test: selection.test, case: kase }, this.settings.current);
    const modelFiles = [config.pretrain.model, config.finetune.model];
    const weights = (await Promise.all(modelFiles.map((m) => modelWeightFiles(m)))).flat();
    const files = await this.fingerprints.fingerprintAll([
      entry.path,
      ...modelFiles,
      ...weights,
      ...datasetFiles(config.pretrain.train),
      ...datasetFiles(config.finetune.train),
      ...datasetFiles(config.finetune.test),
    ]);
    const key = traceCacheKey({
      configHash: entry.hash,
      files,
      case: kase,
      test: options.test,
      top: options.top ?? 0,
      overrides: { ...(options.overrides ?? {}) },
    });
    return { key, kase, options };
  }

  /** The cached result of a trace, if there is one (no worker call). */
  async peek(entry: LoadedConfig, selection: TraceSelection): Promise<TraceReport | undefined> {
    return this.cache.get((await this.prepare(entry, selection)).key);
  }

  /**
   * The trace's result: from the cache, from a run already going, or from a new run
   * under a cancellable progress notification titled `title`.
   */
  async trace(entry: LoadedConfig, selection: TraceSelection, title: string, signal?: AbortSignal): Promise<TraceResult | Cancelled> {
    const { key, kase, options } = await this.prepare(entry, selection);
    const record = (report: TraceReport, cached: boolean): TraceResult => ({
      entry: this.store.add({ key, configPath: entry.path, selection: options.test, case: kase, report }),
      report,
      cached,
    });
    const hit = this.cache.get(key);
    if (hit) {
      this.log.info(`trace ${options.test} (${kase}) of ${entry.label}: cached result`);
      return record(hit, true);
    }
    const started = Date.now();
    const result = await this.inFlight.run(key, async () => {
      this.log.info(`trace ${options.test} (${kase}) of ${entry.label}: starting`);
      const r = await withJobProgress(title, (call) => this.engine.trace(entry.path, options, call), signal);
      if (r !== CANCELLED) this.cache.set(key, r);
      return r;
    });
    if (result === CANCELLED) {
      this.log.info(`trace ${options.test} (${kase}) of ${entry.label}: cancelled`);
      return CANCELLED;
    }
    this.log.info(
      `trace ${options.test} (${kase}) of ${entry.label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `on ${result.diagnostics.backend}, ${result.scores.length} pretraining examples`,
    );
    for (const w of result.diagnostics.warnings ?? []) this.log.warn(`trace ${options.test}: ${w}`);
    return record(result, false);
  }

  /**
   * Every misclassified test point of the config (and the test set's size when known):
   * from what is known, else from the worker's evaluation job (recorded in the store).
   */
  async misclassified(entry: LoadedConfig, signal?: AbortSignal): Promise<{ points: TestPointSummary[]; testCount?: number } | Cancelled> {
    const known = (): { points: TestPointSummary[]; testCount?: number } | undefined => {
      const points = this.store.misclassified(entry.path);
      const testCount = this.store.testCount(entry.path);
      return points ? { points, ...(testCount !== undefined ? { testCount } : {}) } : undefined;
    };
    const before = known();
    if (before) return before;
    const evaluated = await this.evaluations.run(entry.path, () =>
      withJobProgress('MSIF: Evaluating the test points', (call) => this.engine.evaluateTestPoints(entry.path, call), signal),
    );
    if (evaluated === CANCELLED) return CANCELLED;
    this.store.setEvaluation(entry.path, evaluated);
    return known() ?? { points: [] };
  }

  /** Forgets every cached result (e.g. "Restart worker" does not, but a test may). */
  clear(): void {
    this.cache.clear();
  }
}
