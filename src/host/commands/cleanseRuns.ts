/**
 * Runs data cleansing and the similarity comparison in the worker under the cancellable
 * progress notification (percentage, ETA, Cancel), never twice for the same inputs: the
 * results are cached per extension context by {@link analysisCacheKey}.
 */
import { DEFAULT_CLEANSE } from '../../protocol/cleanseReport';
import type { CleanseOptions, CleanseReport } from '../../protocol/cleanseReport';
import type { SimilarityOptions, SimilarityReport } from '../../protocol/similarityReport';
import { FingerprintCache } from '../cache/fileFingerprint';
import type { LoadedConfig } from '../configRegistry';
import type { Ctx } from '../ctx';
import { CANCELLED, withJobProgress } from '../progress/withJobProgress';
import type { Cancelled } from '../progress/withJobProgress';
import { AnalysisResults, analysisCacheKey, workspaceKeyPart } from './cleanseCache';

interface Runs {
  readonly fingerprints: FingerprintCache;
  readonly cleanse: AnalysisResults<CleanseReport>;
  readonly similarity: AnalysisResults<SimilarityReport>;
}

const perContext = new WeakMap<Ctx, Runs>();

function runsOf(ctx: Ctx): Runs {
  let r = perContext.get(ctx);
  if (!r) {
    r = { fingerprints: new FingerprintCache(), cleanse: new AnalysisResults(), similarity: new AnalysisResults() };
    perContext.set(ctx, r);
  }
  return r;
}

const notCancelled = <R>(r: R | Cancelled): r is R => r !== CANCELLED;

/** Every option resolved to the value the worker will use, so that equal runs share a key. */
export function resolvedCleanseOptions(entry: LoadedConfig, o: CleanseOptions): Required<Omit<CleanseOptions, 'heldoutFraction'>> & Pick<CleanseOptions, 'heldoutFraction'> {
  const by = o.by ?? DEFAULT_CLEANSE.by;
  return {
    percent: o.percent,
    by,
    ...(by === 'heldout' ? { heldoutFraction: o.heldoutFraction ?? DEFAULT_CLEANSE.heldoutFraction } : {}),
    case: o.case ?? entry.config.finetune.embedding,
    randomTrials: o.randomTrials ?? DEFAULT_CLEANSE.randomTrials,
    seed: o.seed ?? entry.config.training.seed,
  };
}

/** Data cleansing of `entry`: cached, joined, or run now under a progress notification. */
export async function cleanseCached(ctx: Ctx, entry: LoadedConfig, options: CleanseOptions, title: string): Promise<{ report: CleanseReport; cached: boolean } | Cancelled> {
  const runs = runsOf(ctx);
  const resolved = resolvedCleanseOptions(entry, options);
  const key = analysisCacheKey('cleanse', [await workspaceKeyPart(entry.path, entry.hash, entry.config, runs.fingerprints)], resolved);
  const started = Date.now();
  const { result, cached } = await runs.cleanse.get(key, () => withJobProgress(title, (call) => ctx.engine.cleanse(entry.path, resolved, call)), notCancelled);
  if (result === CANCELLED) {
    ctx.log.info(`cleanse ${resolved.percent}% of ${entry.label}: cancelled`);
    return CANCELLED;
  }
  ctx.log.info(`cleanse ${resolved.percent}% (${resolved.by}) of ${entry.label}: ${cached ? 'cached result' : `done in ${((Date.now() - started) / 1000).toFixed(1)} s`}`);
  for (const w of result.diagnostics.warnings) ctx.log.warn(`cleanse: ${w}`);
  return { report: result, cached };
}

/** The comparison of `a` and `b`: cached, joined, or run now; influence overrides from the settings, as traces. */
export async function similarityCached(
  ctx: Ctx,
  a: LoadedConfig,
  b: LoadedConfig,
  options: Omit<SimilarityOptions, 'overrides'>,
  title: string,
): Promise<{ report: SimilarityReport; cached: boolean } | Cancelled> {
  const runs = runsOf(ctx);
  const full: SimilarityOptions = { test: options.test ?? 'all', ...(options.case ? { case: options.case } : {}), overrides: { ...ctx.settings.current.overrides } };
  const parts = await Promise.all([a, b].map((e) => workspaceKeyPart(e.path, e.hash, e.config, runs.fingerprints)));
  const key = analysisCacheKey('similarity', parts, full);
  const { result, cached } = await runs.similarity.get(key, () => withJobProgress(title, (call) => ctx.engine.similarity(a.path, b.path, full, call)), notCancelled);
  if (result === CANCELLED) return CANCELLED;
  ctx.log.info(`similarity of ${a.label} and ${b.label}: ${cached ? 'cached result' : 'done'}; mean |I| ratio A/B ${result.ratio.meanAbs.toPrecision(3)}`);
  return { report: result, cached };
}
