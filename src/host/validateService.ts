/**
 * Runs leave-one-out checks for the "Validate influence" command, and never twice: results
 * are cached in memory by a key over everything the trace key covers (config text, model
 * and dataset files, case, test selection, influence overrides) plus the sample size, the
 * seed and the retraining options; a check already running for the same key is joined.
 */
import type { EmbeddingCase } from '../common/workspaceConfig';
import type { RetrainOptions, ValidateOptions, ValidateReport } from '../protocol/validateReport';
import { canonicalJson, sha1 } from './cache/cacheKey';
import { InFlight, LruCache } from './cache/lruCache';
import type { LoadedConfig } from './configRegistry';
import type { EngineClient } from './engineClient';
import { CANCELLED, withJobProgress } from './progress/withJobProgress';
import type { Cancelled } from './progress/withJobProgress';
import type { TraceService } from './traceService';
import type * as vscode from 'vscode';

/** Reports kept in memory (each holds N rows: small). */
export const VALIDATE_CACHE_SIZE = 16;

/** What the user asked to check. */
export interface ValidateRequestArgs {
  readonly test: string;
  readonly case: EmbeddingCase;
  readonly sample: number;
  readonly seed?: number;
  readonly retrain?: Partial<RetrainOptions>;
}

export interface ValidateResult {
  readonly report: ValidateReport;
  readonly cached: boolean;
}

/** The cache key of a check: the trace's key and the check's own inputs. */
export function validateCacheKey(traceKey: string, request: ValidateRequestArgs): string {
  return sha1(canonicalJson({ kind: 'validate/v1', trace: traceKey, sample: request.sample, seed: request.seed, retrain: request.retrain ?? {} }));
}

export class ValidateService {
  private readonly cache = new LruCache<string, ValidateReport>(VALIDATE_CACHE_SIZE);
  private readonly inFlight = new InFlight<string, ValidateReport | Cancelled>();

  constructor(
    private readonly engine: EngineClient,
    private readonly traces: TraceService,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The cache key and the worker options of a check. */
  async prepare(entry: LoadedConfig, request: ValidateRequestArgs): Promise<{ key: string; options: ValidateOptions }> {
    const trace = await this.traces.prepare(entry, { test: request.test, case: request.case });
    const options: ValidateOptions = {
      sample: request.sample,
      test: request.test,
      case: request.case,
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.retrain ? { retrain: request.retrain } : {}),
      ...(trace.options.overrides ? { overrides: trace.options.overrides } : {}),
    };
    return { key: validateCacheKey(trace.key, request), options };
  }

  /** The check's report: cached, joined, or run under a cancellable progress notification. */
  async validate(entry: LoadedConfig, request: ValidateRequestArgs, title: string, signal?: AbortSignal): Promise<ValidateResult | Cancelled> {
    const { key, options } = await this.prepare(entry, request);
    const what = `leave-one-out check of ${entry.label} (test ${request.test}, ${request.case}, N = ${request.sample})`;
    const hit = this.cache.get(key);
    if (hit) {
      this.log.info(`${what}: cached result`);
      return { report: hit, cached: true };
    }
    const started = Date.now();
    const result = await this.inFlight.run(key, async () => {
      this.log.info(`${what}: starting`);
      const r = await withJobProgress(title, (call) => this.engine.validate(entry.path, options, call), signal);
      if (r !== CANCELLED) this.cache.set(key, r);
      return r;
    });
    if (result === CANCELLED) {
      this.log.info(`${what}: cancelled`);
      return CANCELLED;
    }
    const c = result.correlations.influence;
    const r = (v: number | null): string => (v === null ? 'undefined' : v.toFixed(3));
    this.log.info(
      `${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s on ${result.diagnostics.backend}; ` +
        `Pearson r top ${r(c.top.pearson)}, random ${r(c.random.pearson)}, all ${r(c.all.pearson)}`,
    );
    for (const w of result.diagnostics.warnings) this.log.warn(`validate: ${w}`);
    return { report: result, cached: false };
  }
}
