/**
 * Fingerprints of the files a trace reads: size and modification time for every file,
 * plus a SHA-1 of the contents for small files (msif.json, model.json), where an edit
 * within the same second and size is plausible. Content hashes are memoised by
 * (path, size, mtime), so that a second trace hashes nothing again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface FileFingerprint {
  readonly path: string;
  /** -1 for a missing file. */
  readonly size: number;
  readonly mtimeMs: number;
  /** SHA-1 of the contents, for files up to the hashing limit. */
  readonly sha1?: string;
}

/** Files above this size are fingerprinted by size and mtime only. */
export const HASH_LIMIT_BYTES = 4 * 1024 * 1024;

export class FingerprintCache {
  private readonly hashes = new Map<string, string>();

  constructor(private readonly hashLimit = HASH_LIMIT_BYTES) {}

  async fingerprint(file: string): Promise<FileFingerprint> {
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      return { path: file, size: -1, mtimeMs: 0 };
    }
    const base = { path: file, size: stat.size, mtimeMs: stat.mtimeMs };
    if (stat.size > this.hashLimit) return base;
    const memo = `${file}\0${stat.size}\0${stat.mtimeMs}`;
    let digest = this.hashes.get(memo);
    if (digest === undefined) {
      digest = createHash('sha1').update(await fs.readFile(file)).digest('hex');
      if (this.hashes.size > 1000) this.hashes.clear();
      this.hashes.set(memo, digest);
    }
    return { ...base, sha1: digest };
  }

  async fingerprintAll(files: readonly string[]): Promise<FileFingerprint[]> {
    return Promise.all([...new Set(files)].map((f) => this.fingerprint(f)));
  }
}

/**
 * The weight files a tfjs `model.json` names (its `weightsManifest` paths, relative to
 * it); empty when the file cannot be read or parsed: the worker reports that error.
 */
export async function modelWeightFiles(modelJson: string): Promise<string[]> {
  try {
    const parsed = JSON.parse(await fs.readFile(modelJson, 'utf8')) as { weightsManifest?: { paths?: unknown }[] };
    const dir = path.dirname(modelJson);
    const out: string[] = [];
    for (const group of parsed.weightsManifest ?? []) {
      for (const p of Array.isArray(group.paths) ? group.paths : []) {
        if (typeof p === 'string') out.push(path.resolve(dir, p));
      }
    }
    return out;
  } catch {
    return [];
  }
}
