/**
 * A disk cache of the influence solves (src/engine/influence/influenceScores.ts,
 * `InfluenceVectors`): the pretraining inverse-HVP s, its diagnostics and gradient norms,
 * keyed by a SHA-256 of everything they depend on: the contents of both models (model.json
 * and weight files) and of the three datasets' files, the dataset specs, shared layers,
 * losses, case, every influence setting, the selected test points and the backend. A
 * repeated query (another `--top`, a restarted worker, the CLI after the extension) then
 * costs one scoring pass instead of two solves.
 *
 * ## Notes
 * Where: `$MSIF_CACHE_DIR`, else `$XDG_CACHE_HOME/msif`, else `~/.cache/msif`.
 * `MSIF_CACHE=off` (or the CLI's `--no-cache`) turns it off. Entries are written
 * atomically (temporary file, then rename) and a damaged entry counts as a miss. Nothing
 * is written next to the user's files.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InfluenceVectorCache, InfluenceVectors } from '../engine/influence/influenceScores';
import type { DatasetSpec, WorkspaceConfig } from '../common/workspaceConfig';

const FORMAT = 'msif-ihvp-1';

/** The cache directory, or undefined when caching is off. */
export function ihvpCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if ((env['MSIF_CACHE'] ?? '').toLowerCase() === 'off') return undefined;
  if (env['MSIF_CACHE_DIR']) return path.resolve(env['MSIF_CACHE_DIR']);
  const base = env['XDG_CACHE_HOME'] ? path.resolve(env['XDG_CACHE_HOME']) : path.join(os.homedir(), '.cache');
  return path.join(base, 'msif');
}

/** Everything the solves depend on, besides file contents (hashed separately). */
export interface IhvpKeyInputs {
  readonly config: WorkspaceConfig;
  readonly case: string;
  readonly settings: object;
  readonly identityHessians: boolean;
  readonly test: readonly number[];
  readonly backend: string;
}

/** SHA-256 of the inputs and of every model and dataset file's contents. */
export async function ihvpCacheKey(k: IhvpKeyInputs, signal?: AbortSignal): Promise<string> {
  const c = k.config;
  const files = [...(await modelFiles(c.pretrain.model)), ...(await modelFiles(c.finetune.model)), ...datasetFiles(c.pretrain.train), ...datasetFiles(c.finetune.train), ...datasetFiles(c.finetune.test)];
  const h = createHash('sha256');
  h.update(JSON.stringify({
    format: FORMAT,
    sharedLayers: c.sharedLayers,
    pretrain: { train: c.pretrain.train, loss: c.pretrain.loss },
    finetune: { train: c.finetune.train, test: c.finetune.test, loss: c.finetune.loss },
    case: k.case,
    settings: k.settings,
    identityHessians: k.identityHessians,
    test: k.test,
    backend: k.backend,
  }));
  for (const f of files) {
    if (signal?.aborted) throw signal.reason;
    h.update(`\0${f}\0${await fileDigest(f)}`);
  }
  return h.digest('hex');
}

/** What a disk entry reports: found and read, written, found but unreadable, not written. */
export type CacheEvent = 'hit' | 'stored' | 'unreadable' | 'unwritable';

/**
 * One JSON file as a cache entry: `load` is undefined when the file is missing or
 * `decode` rejects it (damaged, another format); `store` writes atomically (temporary
 * file, then rename) and never throws: a cache that cannot be written costs time, never
 * the result.
 */
export function diskEntry<T>(file: string, encode: (v: T) => string, decode: (text: string) => T | undefined, onEvent?: (event: CacheEvent, detail: string) => void): { load(): Promise<T | undefined>; store(v: T): Promise<void> } {
  return {
    async load() {
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch {
        return undefined;
      }
      const v = decode(text);
      onEvent?.(v ? 'hit' : 'unreadable', file);
      return v;
    },
    async store(v) {
      try {
        await fs.mkdir(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await fs.writeFile(tmp, encode(v));
        await fs.rename(tmp, file);
        onEvent?.('stored', file);
      } catch (e) {
        onEvent?.('unwritable', `${file}: ${(e as Error).message}`);
      }
    },
  };
}

/** A float64 vector as base64 of its bytes (exact). */
export function f64ToBase64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** The inverse of {@link f64ToBase64}; throws on a length that is not a whole number of float64s. */
export function base64ToF64(b64: string): Float64Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % 8 !== 0) throw new Error('bad length');
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

/** The engine's cache interface over the entry `key` in `dir`; `onEvent` hears hits and stores. */
export function diskIhvpCache(dir: string, key: string, onEvent?: (event: CacheEvent, detail: string) => void): InfluenceVectorCache {
  return diskEntry(path.join(dir, `${key}.json`), encode, decode, onEvent);
}

function encode(v: InfluenceVectors): string {
  const f64 = f64ToBase64;
  return JSON.stringify({
    format: FORMAT,
    s: f64(v.s),
    ...(v.sDirect ? { sDirect: f64(v.sDirect) } : {}),
    solves: v.solves,
    hessianSampleCount: v.hessianSampleCount,
    gradientNorms: v.gradientNorms,
  });
}

function decode(text: string): InfluenceVectors | undefined {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o['format'] !== FORMAT || typeof o['s'] !== 'string') return undefined;
    const f64 = base64ToF64;
    const gn = o['gradientNorms'] as { pretrain?: unknown; finetune?: unknown } | undefined;
    if (!Array.isArray(o['solves']) || typeof o['hessianSampleCount'] !== 'number' || typeof gn?.pretrain !== 'number' || typeof gn.finetune !== 'number') return undefined;
    return {
      s: f64(o['s']),
      ...(typeof o['sDirect'] === 'string' ? { sDirect: f64(o['sDirect']) } : {}),
      solves: o['solves'] as InfluenceVectors['solves'],
      hessianSampleCount: o['hessianSampleCount'],
      gradientNorms: { pretrain: gn.pretrain, finetune: gn.finetune },
    };
  } catch {
    return undefined;
  }
}

/** model.json and the weight files its manifest names. */
async function modelFiles(modelJson: string): Promise<string[]> {
  const out = [modelJson];
  try {
    const json = JSON.parse(await fs.readFile(modelJson, 'utf8')) as { weightsManifest?: { paths?: unknown }[] };
    for (const g of json.weightsManifest ?? []) {
      if (Array.isArray(g.paths)) for (const p of g.paths) if (typeof p === 'string') out.push(path.resolve(path.dirname(modelJson), p));
    }
  } catch {
    // Loading the model has checked it already; hashing model.json alone is still a key.
  }
  return out;
}

function datasetFiles(spec: DatasetSpec): string[] {
  return spec.format === 'jsonl' ? [spec.path] : [spec.x, spec.y];
}

function fileDigest(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
