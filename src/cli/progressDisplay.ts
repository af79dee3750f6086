/**
 * Job progress and log lines on stderr: one line updated in place when the stream is a
 * terminal, plain lines (fewer of them) otherwise.
 */
import type { JobProgress } from '../protocol/progress';
import { throttleProgress } from '../worker/progressThrottle';

/** Where progress goes; `dispose` clears the updating line. */
export interface ProgressDisplay {
  readonly update: (progress: JobProgress) => void;
  readonly log: (line: string) => void;
  readonly dispose: () => void;
}

/** The part of a stream the display needs (`process.stderr` satisfies it). */
export interface DisplayStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/** Updates per second on a terminal; plain lines are rarer, to keep logs short. */
const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 1000;
/** Carriage return, then erase to the end of the line. */
const CLEAR_LINE = '\r\x1b[K';

/** One progress line: `" 42% phase: message"` (no percentage where the fraction is unknown). */
export function formatProgress(progress: JobProgress): string {
  const pct = progress.fraction === undefined ? '' : `${String(Math.round(progress.fraction * 100)).padStart(3)}% `;
  return `${pct}${progress.phase}: ${progress.message}`;
}

/** Creates the display for `stream`. */
export function createProgressDisplay(stream: DisplayStream): ProgressDisplay {
  if (!stream.isTTY) {
    const throttle = throttleProgress((p) => stream.write(`${formatProgress(p)}\n`), PLAIN_INTERVAL_MS);
    return { update: throttle.push, log: (line) => stream.write(`${line}\n`), dispose: throttle.dispose };
  }
  let shown = '';
  const draw = (): void => {
    stream.write(CLEAR_LINE + shown);
  };
  const throttle = throttleProgress((p) => {
    shown = formatProgress(p).slice(0, Math.max(1, (stream.columns || 80) - 1));
    draw();
  }, TTY_INTERVAL_MS);
  return {
    update: throttle.push,
    log(line) {
      stream.write(`${CLEAR_LINE}${line}\n`);
      draw();
    },
    dispose() {
      throttle.dispose();
      if (shown) stream.write(CLEAR_LINE);
      shown = '';
    },
  };
}
