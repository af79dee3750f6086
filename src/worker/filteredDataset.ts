/**
 * Writing a dataset without some of its examples (data cleansing's output), and only
 * where asked: a new JSON Lines file, written atomically, never over a file of the
 * workspace. A JSON Lines input keeps its lines byte for byte (line endings included);
 * IDX and NumPy inputs become JSON Lines records `{"id", "x", "y"}`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MsifError } from '../common/errors';
import { concatBytes, recordRanges } from '../common/lineRanges';
import type { DatasetSpec, WorkspaceConfig } from '../common/workspaceConfig';
import { writeFileAtomic } from '../cli/atomicWrite';
import type { Dataset } from './datasets/dataset';

const LF = 0x0a;

/** Every file a workspace reads: msif.json, the model.json files and their weights, the datasets. */
export async function workspaceFiles(config: WorkspaceConfig): Promise<string[]> {
  const files = [config.file, config.pretrain.model, config.finetune.model];
  for (const model of [config.pretrain.model, config.finetune.model]) {
    try {
      const json = JSON.parse(await fs.readFile(model, 'utf8')) as { weightsManifest?: { paths?: unknown }[] };
      for (const group of json.weightsManifest ?? []) {
        for (const p of Array.isArray(group.paths) ? group.paths : []) if (typeof p === 'string') files.push(path.resolve(path.dirname(model), p));
      }
    } catch {
      // An unreadable model was reported when the workspace loaded.
    }
  }
  const data = (spec: DatasetSpec): string[] => (spec.format === 'jsonl' ? [spec.path] : [spec.x, spec.y]);
  files.push(...data(config.pretrain.train), ...data(config.finetune.train), ...data(config.finetune.test));
  return files;
}

/** The canonical path of `file` (symbolic links resolved), whether or not it exists. */
async function canonical(file: string): Promise<string> {
  const abs = path.resolve(file);
  try {
    return await fs.realpath(abs);
  } catch {
    try {
      return path.join(await fs.realpath(path.dirname(abs)), path.basename(abs));
    } catch {
      return abs;
    }
  }
}

/**
 * Checks that `out` may be written: its directory exists, it is not a file of the
 * workspace (msif.json, models, weights, datasets), and it does not exist unless
 * `overwrite`.
 */
export async function assertWritableOutput(out: string, protectedFiles: readonly string[], overwrite: boolean): Promise<void> {
  const target = await canonical(out);
  for (const f of protectedFiles) {
    if ((await canonical(f)) === target) {
      throw new MsifError('usage', `refusing to write the filtered dataset over ${f}, a file of the workspace`, { field: '--write-filtered', expected: 'a new file outside the workspace\'s models and datasets' });
    }
  }
  const dir = await fs.stat(path.dirname(target)).catch(() => undefined);
  if (!dir?.isDirectory()) {
    throw new MsifError('usage', `cannot write ${out}: directory ${path.dirname(path.resolve(out))} does not exist`, { field: '--write-filtered', expected: 'a file in an existing directory' });
  }
  const existing = await fs.stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new MsifError('usage', `${out} is a directory`, { field: '--write-filtered', expected: 'a file name' });
  if (existing && !overwrite) {
    throw new MsifError('usage', `${out} already exists`, { field: '--write-filtered', expected: 'a file that does not exist yet (nothing is overwritten)' });
  }
}

/**
 * The bytes of a JSON Lines file without the lines of the records at `exclude`: every
 * other line (blank ones too) is kept exactly, with its own line ending; a byte-order
 * mark stays at the start.
 *
 * @throws MsifError when the file holds another number of records than `expectedCount`
 *   (it changed since it was loaded).
 */
export function filterJsonlBytes(bytes: Uint8Array, exclude: ReadonlySet<number>, expectedCount: number, file: string): Uint8Array {
  const records = recordRanges(bytes);
  if (records.length !== expectedCount) {
    throw new MsifError('dataset', `holds ${records.length} records now, ${expectedCount} when it was loaded`, { file, expected: 'the file unchanged while MSIF runs' });
  }
  const dropLines = new Set(records.filter((r) => exclude.has(r.index)).map((r) => r.line));
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const parts: Uint8Array[] = [];
  if (bom && dropLines.has(1)) parts.push(bytes.subarray(0, bom));
  let start = 0;
  for (let line = 1; start < bytes.length; line++) {
    const nl = bytes.indexOf(LF, start);
    const stop = nl === -1 ? bytes.length : nl + 1;
    if (!dropLines.has(line)) parts.push(bytes.subarray(start, stop));
    start = stop;
  }
  return concatBytes(parts);
}

/** A flat row-major array nested by `shape` (a scalar for `[]`). */
export function nest(values: ArrayLike<number>, shape: readonly number[], offset = 0): number | unknown[] {
  if (shape.length === 0) return values[offset] as number;
  const [d, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: d as number }, (_, i) => nest(values, rest, offset + i * stride));
}

/** JSON Lines records of the examples not in `exclude`, from any dataset (IDX, NumPy). */
async function recordsWithout(ds: Dataset, exclude: ReadonlySet<number>, signal?: AbortSignal): Promise<string> {
  const ids = ds.ids();
  const keep: number[] = [];
  for (let i = 0; i < ds.count; i++) if (!exclude.has(i)) keep.push(i);
  const rowSize = ds.exampleShape.reduce((a, b) => a * b, 1);
  const labelSize = ds.labelShape.reduce((a, b) => a * b, 1);
  const lines: string[] = [];
  for await (const b of ds.batches(256, keep)) {
    if (signal?.aborted) throw new MsifError('cancelled', 'writing the filtered dataset was cancelled');
    b.indices.forEach((index, k) => {
      const x = nest(b.x.subarray(k * rowSize, (k + 1) * rowSize), ds.exampleShape);
      const y = nest(b.y.subarray(k * labelSize, (k + 1) * labelSize), ds.labelShape);
      lines.push(JSON.stringify({ id: ids[index] ?? String(index), x, y }));
    });
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * Writes `ds` without the examples at `exclude` to `out` (JSON Lines), atomically.
 * Call {@link assertWritableOutput} first.
 */
export async function writeFilteredDataset(
  ds: Dataset,
  exclude: readonly number[],
  out: string,
  signal?: AbortSignal,
): Promise<{ written: number; excluded: number; mode: 'lines' | 'records' }> {
  const drop = new Set<number>();
  for (const i of exclude) {
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
      throw new MsifError('usage', `cannot leave out example ${i}: ${ds.file} has ${ds.count} examples`, { expected: `indices in 0…${ds.count - 1}` });
    }
    drop.add(i);
  }
  if (ds.format === 'jsonl') {
    const bytes = await fs.readFile(ds.file);
    await writeFileAtomic(out, filterJsonlBytes(bytes, drop, ds.count, ds.file));
    return { written: ds.count - drop.size, excluded: drop.size, mode: 'lines' };
  }
  await writeFileAtomic(out, await recordsWithout(ds, drop, signal));
  return { written: ds.count - drop.size, excluded: drop.size, mode: 'records' };
}
