/**
 * Which records of a JSON Lines dataset get a CodeLens, and what the lenses say. Pure:
 * the provider hands in the record ranges (from `common/lineRanges`) and the editor's
 * visible line windows; on a 100,000-line file only the records near what is on screen
 * get lenses, and titles are made in `resolveCodeLens`.
 */
import type { RecordRange } from '../../common/lineRanges';

/** A window of editor lines, 0-based, inclusive. */
export interface LineWindow {
  readonly start: number;
  readonly end: number;
}

/** Lenses are made for this many lines above and below what is visible. */
export const LENS_MARGIN_LINES = 100;
/** Without a visible window (a document not shown), the first this many records get lenses. */
export const LENS_CAP_UNWINDOWED = 2000;

/** Index of the first range whose line is ≥ `line` (1-based), by binary search. */
function firstAtOrAfter(ranges: readonly RecordRange[], line: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges[mid] as RecordRange).line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The records to put lenses on: those within `margin` lines of any window, in order and
 * without repeats; or, with no windows, the first `cap` records. Cost: O(w·log n + output).
 */
export function recordsForLenses(
  ranges: readonly RecordRange[],
  windows: readonly LineWindow[],
  margin = LENS_MARGIN_LINES,
  cap = LENS_CAP_UNWINDOWED,
): RecordRange[] {
  if (windows.length === 0) return ranges.slice(0, cap);
  const merged = mergeWindows(windows.map((w) => ({ start: Math.max(0, w.start - margin), end: w.end + margin })));
  const out: RecordRange[] = [];
  for (const w of merged) {
    // Window lines are 0-based; record lines are 1-based.
    for (let i = firstAtOrAfter(ranges, w.start + 1); i < ranges.length; i++) {
      const r = ranges[i] as RecordRange;
      if (r.line > w.end + 1) break;
      out.push(r);
    }
  }
  return out;
}

/** Sorts and merges overlapping or touching windows. */
export function mergeWindows(windows: readonly LineWindow[]): LineWindow[] {
  const sorted = [...windows].filter((w) => w.end >= w.start).sort((a, b) => a.start - b.start);
  const out: LineWindow[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w.start <= last.end + 1) out[out.length - 1] = { start: last.start, end: Math.max(last.end, w.end) };
    else out.push({ ...w });
  }
  return out;
}

/** True when the windows cover lines that `previous` did not come within `margin` / 2 of. */
export function windowsMovedFar(previous: readonly LineWindow[], next: readonly LineWindow[], margin = LENS_MARGIN_LINES): boolean {
  const half = margin / 2;
  return next.some((w) => !previous.some((p) => w.start >= p.start - half && w.end <= p.end + half));
}

/** `Influence 0.0123 · rank 5/1000`: the score to 3 significant digits, rank by score descending. */
export function influenceLensTitle(score: number, rank: number, count: number): string {
  return `Influence ${formatScore(score)} · rank ${rank}/${count}`;
}

/** A score to 3 significant digits (`toPrecision(3)`). */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toPrecision(3) : String(score);
}

export const TRACE_LENS_TITLE = 'Trace to pretraining data';
export const TRACE_MISCLASSIFIED_LENS_TITLE = 'Trace misclassified';
export const COMPARE_CASES_LENS_TITLE = 'Compare cases';
