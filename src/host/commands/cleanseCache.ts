/**
 * Results of data cleansing and of the similarity comparison, cached like traces: by a
 * key over the msif.json text, fingerprints of every model and dataset file, and the
 * options; a run already going for the same key is joined. Free of the `vscode` module.
 */
import type { DatasetSpec, WorkspaceConfig } from '../../common/workspaceConfig';
import { canonicalJson, sha1 } from '../cache/cacheKey';
import type { FileFingerprint, FingerprintCache } from '../cache/fileFingerprint';
import { modelWeightFiles } from '../cache/fileFingerprint';
import { InFlight, LruCache } from '../cache/lruCache';

/** One workspace's part of a key. */
export interface WorkspaceKeyPart {
  /** SHA-1 of the msif.json text. */
  readonly configHash: string;
  readonly files: readonly FileFingerprint[];
}

/** Reports kept per kind; a cleanse report of m scores is about as large as a trace report. */
export const ANALYSIS_CACHE_SIZE = 8;

/** The files a dataset spec reads. */
function datasetFiles(spec: DatasetSpec): string[] {
  return spec.format === 'jsonl' ? [spec.path] : [spec.x, spec.y];
}

/** Fingerprints of msif.json, both models, their weight files and the three datasets. */
export async function workspaceKeyPart(configPath: string, configHash: string, config: WorkspaceConfig, fingerprints: FingerprintCache): Promise<WorkspaceKeyPart> {
  const models = [config.pretrain.model, config.finetune.model];
  const weights = (await Promise.all(models.map((m) => modelWeightFiles(m)))).flat();
  const files = await fingerprints.fingerprintAll([
    configPath,
    ...models,
    ...weights,
    ...datasetFiles(config.pretrain.train),
    ...datasetFiles(config.finetune.train),
    ...datasetFiles(config.finetune.test),
  ]);
  return { configHash, files };
}

/**
 * The cache key of an analysis: SHA-1 of a canonical JSON of its kind, the workspaces
 * (in the order given: A and B are not interchangeable), each one's files sorted by path,
 * and the options (object keys sorted, `undefined` dropped).
 */
export function analysisCacheKey(kind: 'cleanse' | 'similarity', workspaces: readonly WorkspaceKeyPart[], options: object): string {
  const sorted = workspaces.map((w) => ({ configHash: w.configHash, files: [...w.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) }));
  return sha1(canonicalJson({ kind: `${kind}/v1`, workspaces: sorted, options }));
}

/** A bounded cache of finished results with concurrent runs of one key shared. */
export class AnalysisResults<V> {
  private readonly cache = new LruCache<string, V>(ANALYSIS_CACHE_SIZE);
  private readonly running = new InFlight<string, unknown>();

  /**
   * The cached result for `key`, the run already going for it (its callers all get its
   * outcome), or a new run of `compute`. A result for which `keep` is false (a
   * cancellation) is returned but not cached.
   */
  async get<R>(key: string, compute: () => Promise<R>, keep: (r: R) => r is R & V): Promise<{ result: R | V; cached: boolean }> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return { result: hit, cached: true };
    const result = (await this.running.run(key, async () => {
      const r = await compute();
      if (keep(r)) this.cache.set(key, r);
      return r;
    })) as R;
    return { result, cached: false };
  }

  /** The cached result for `key`, if any. */
  peek(key: string): V | undefined {
    return this.cache.peek(key);
  }

  clear(): void {
    this.cache.clear();
  }
}
