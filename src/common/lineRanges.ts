/**
 * Where the records of a JSON Lines file are (contract §3). Every line counts for line
 * numbers; blank lines (JSON whitespace only) hold no record; a record ends before its
 * `\n` or `\r\n`; the last line needs no newline; a UTF-8 byte-order mark is skipped.
 * Pure: the editor's CodeLens uses {@link recordRanges} on the document text and the
 * dataset loader uses {@link RecordScanner} on the file's bytes, so both number records
 * and lines the same way.
 */

/** One record (non-blank line) of a JSON Lines file. */
export interface RecordRange {
  /** 0-based record index: the example's index in the dataset. */
  readonly index: number;
  /** 1-based line number, counting blank lines. */
  readonly line: number;
  /** Offset of the record's first unit: bytes for byte input, UTF-16 code units for text. */
  readonly start: number;
  /** Offset just past the record's last unit, before `\r\n` or `\n`. */
  readonly end: number;
}

/** A record found by {@link RecordScanner}, with its bytes. */
export interface RecordSlice extends RecordRange {
  /** The bytes `start..end` of the file (a view; valid until the next chunk is pushed). */
  readonly bytes: Uint8Array;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * The records of a JSON Lines file, in order. Offsets are byte offsets for a
 * `Uint8Array` (a Node `Buffer` is one) and UTF-16 code unit offsets for a string.
 */
export function recordRanges(content: string | Uint8Array): RecordRange[] {
  if (typeof content !== 'string') {
    const scanner = new RecordScanner();
    return [...scanner.push(content), ...scanner.end()].map(({ index, line, start, end }) => ({ index, line, start, end }));
  }
  const ranges: RecordRange[] = [];
  const codeAt = (i: number): number => content.charCodeAt(i);
  let start = content.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let line = 1; start <= content.length; line++) {
    const newline = content.indexOf('\n', start);
    const stop = newline === -1 ? content.length : newline;
    const end = recordEnd(codeAt, start, stop);
    if (end !== undefined) ranges.push({ index: ranges.length, line, start, end });
    start = stop + 1;
  }
  return ranges;
}

/** The record on 1-based `line`, or undefined when that line is blank or past the end. */
export function recordAtLine(ranges: readonly RecordRange[], line: number): RecordRange | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (r.line === line) return r;
    if (r.line < line) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * Finds records in a file read in chunks of any size, holding only the unfinished last
 * line between chunks. Push every chunk in order, then call {@link RecordScanner.end}.
 */
export class RecordScanner {
  /** The chunks of the unfinished last line. */
  private pending: Uint8Array[] = [];
  /** File offset of the first pending byte. */
  private pendingOffset = 0;
  private line = 0;
  private index = 0;

  /** The records completed by `chunk`. */
  push(chunk: Uint8Array): RecordSlice[] {
    if (chunk.indexOf(LF) === -1) {
      this.pending.push(chunk);
      return [];
    }
    const buf = this.takePending(chunk);
    const out: RecordSlice[] = [];
    let start = 0;
    for (let newline = buf.indexOf(LF); newline !== -1; newline = buf.indexOf(LF, start)) {
      this.emit(buf, start, newline, out);
      start = newline + 1;
    }
    this.pendingOffset += start;
    if (start < buf.length) this.pending.push(buf.subarray(start));
    return out;
  }

  /** The last record, when the file does not end with a newline. */
  end(): RecordSlice[] {
    const buf = this.takePending(new Uint8Array(0));
    const out: RecordSlice[] = [];
    if (buf.length > 0) this.emit(buf, 0, buf.length, out);
    return out;
  }

  /** The pending bytes followed by `chunk`, as one array; clears `pending`. */
  private takePending(chunk: Uint8Array): Uint8Array {
    if (this.pending.length === 0) return chunk;
    const parts = [...this.pending, chunk];
    this.pending = [];
    return concatBytes(parts);
  }

  private emit(buf: Uint8Array, lineStart: number, stop: number, out: RecordSlice[]): void {
    this.line++;
    const bom = this.line === 1 && buf[lineStart] === 0xef && buf[lineStart + 1] === 0xbb && buf[lineStart + 2] === 0xbf;
    const start = bom ? lineStart + 3 : lineStart;
    const end = recordEnd((i) => buf[i]!, start, stop);
    if (end === undefined) return;
    out.push({
      index: this.index++,
      line: this.line,
      start: this.pendingOffset + start,
      end: this.pendingOffset + end,
      bytes: buf.subarray(start, end),
    });
  }
}

/** End of the record on the line `start..stop` (`\n` excluded), or undefined if it is blank. */
function recordEnd(codeAt: (i: number) => number, start: number, stop: number): number | undefined {
  const end = stop > start && codeAt(stop - 1) === CR ? stop - 1 : stop;
  for (let i = start; i < end; i++) {
    const c = codeAt(i);
    if (c !== SPACE && c !== TAB && c !== CR && c !== LF) return end;
  }
  return undefined;
}

/** The byte arrays one after another, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
