/**
 * Random access to the records of a JSON Lines dataset for display: one streaming pass
 * records where each record is (byte offsets and 1-based line, via `common/lineRanges`'
 * RecordScanner, the same numbering the worker uses), then records are read and parsed
 * on demand. Memory: 20 bytes per record, never the file.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { RecordScanner } from '../../common/lineRanges';
import { parseJsonlRecord } from '../../common/jsonl';
import type { JsonlRecord } from '../../common/jsonl';
import { LruCache } from '../cache/lruCache';

export class JsonlIndex {
  private constructor(
    readonly file: string,
    readonly size: number,
    readonly mtimeMs: number,
    private readonly starts: Float64Array,
    private readonly ends: Float64Array,
    private readonly lines: Int32Array,
    readonly count: number,
  ) {}

  /** Scans `file` once. */
  static async build(file: string): Promise<JsonlIndex> {
    const stat = await fs.stat(file);
    let capacity = 1024;
    let starts = new Float64Array(capacity);
    let ends = new Float64Array(capacity);
    let lines = new Int32Array(capacity);
    let count = 0;
    const add = (slices: { start: number; end: number; line: number }[]): void => {
      for (const s of slices) {
        if (count === capacity) {
          capacity *= 2;
          const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
            const b = make(capacity);
            b.set(a);
            return b;
          };
          starts = grow(starts, (n) => new Float64Array(n));
          ends = grow(ends, (n) => new Float64Array(n));
          lines = grow(lines, (n) => new Int32Array(n));
        }
        starts[count] = s.start;
        ends[count] = s.end;
        lines[count] = s.line;
        count++;
      }
    };
    const scanner = new RecordScanner();
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) add(scanner.push(chunk as Buffer));
    add(scanner.end());
    return new JsonlIndex(file, stat.size, stat.mtimeMs, starts, ends, lines, count);
  }

  /** The 1-based line of record `index`, or undefined when out of range. */
  lineOf(index: number): number | undefined {
    return Number.isInteger(index) && index >= 0 && index < this.count ? this.lines[index] : undefined;
  }

  /** The record index on 1-based `line`, or undefined for a blank line or past the end. */
  indexAtLine(line: number): number | undefined {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const l = this.lines[mid] as number;
      if (l === line) return mid;
      if (l < line) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * Reads and parses the records at `indices` (out-of-range indices are skipped).
   * @throws MsifError for a malformed record, naming the file and line.
   */
  async read(indices: readonly number[]): Promise<Map<number, JsonlRecord>> {
    const wanted = [...new Set(indices)].filter((i) => this.lineOf(i) !== undefined).sort((a, b) => a - b);
    const out = new Map<number, JsonlRecord>();
    if (wanted.length === 0) return out;
    const handle = await fs.open(this.file, 'r');
    try {
      for (const i of wanted) {
        const start = this.starts[i] as number;
        const length = (this.ends[i] as number) - start;
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, start);
        out.set(i, parseJsonlRecord(buffer.toString('utf8'), { file: this.file, line: this.lines[i] as number }));
      }
    } finally {
      await handle.close();
    }
    return out;
  }
}

/** Indexes by file, rebuilt when the file's size or mtime changes; concurrent builds are shared. */
export class JsonlIndexCache {
  private readonly cache = new LruCache<string, Promise<JsonlIndex>>(16);

  async get(file: string): Promise<JsonlIndex> {
    const stat = await fs.stat(file);
    const key = `${file}\0${stat.size}\0${stat.mtimeMs}`;
    let index = this.cache.get(key);
    if (!index) {
      index = JsonlIndex.build(file);
      this.cache.set(key, index);
      index.catch(() => this.cache.delete(key));
    }
    return index;
  }
}
