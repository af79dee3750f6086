/**
 * Turns the worker's progress reports into what a VS Code progress notification shows:
 * the increment since the last report (VS Code's `increment` is cumulative) and a message
 * with the percentage and an estimate of the time left.
 *
 * ## Method
 * Linear extrapolation from the start of the job: with elapsed time t and fraction f
 * done, the time left is t·(1 − f)/f. No estimate is shown before 2 s or 2 % (too noisy).
 */
import type { JobProgress } from '../../protocol/progress';

/** Seconds left, or undefined when there is no sensible estimate yet. */
export function estimateSecondsLeft(elapsedMs: number, fraction: number): number | undefined {
  if (!Number.isFinite(fraction) || fraction < 0.02 || fraction > 1 || elapsedMs < 2000) return undefined;
  return ((elapsedMs / 1000) * (1 - fraction)) / fraction;
}

/** "ETA 45 s", "ETA 2:05", "ETA 1:02:03"; "ETA <1 s" near the end. */
export function formatEta(seconds: number): string {
  if (seconds < 1) return 'ETA <1 s';
  const s = Math.round(seconds);
  if (s < 60) return `ETA ${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `ETA ${h}:${String(m).padStart(2, '0')}:${sec}` : `ETA ${m}:${sec}`;
}

/** One update for `vscode.Progress.report`. */
export interface ProgressUpdate {
  readonly message: string;
  /** Percentage points since the previous update (VS Code adds them up); absent if none. */
  readonly increment?: number;
}

/**
 * Tracks one job's progress: feed it the worker's reports, get updates whose increments
 * add up to the fraction done (never backwards, never past 100).
 */
export class ProgressTracker {
  private reportedPercent = 0;

  constructor(
    private readonly startedAt: number,
    private readonly title = '',
  ) {}

  update(progress: JobProgress, now: number): ProgressUpdate {
    const parts: string[] = [];
    if (progress.message) parts.push(progress.message);
    let increment: number | undefined;
    const fraction = progress.fraction;
    if (fraction !== undefined && Number.isFinite(fraction)) {
      const percent = Math.min(100, Math.max(0, fraction * 100));
      if (percent > this.reportedPercent) {
        increment = percent - this.reportedPercent;
        this.reportedPercent = percent;
      }
      parts.push(`${Math.floor(this.reportedPercent)}%`);
      const left = estimateSecondsLeft(now - this.startedAt, fraction);
      if (left !== undefined) parts.push(formatEta(left));
    }
    const message = [this.title, parts.join(' · ')].filter((s) => s).join(': ');
    return increment === undefined ? { message } : { message, increment };
  }
}
