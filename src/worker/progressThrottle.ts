/**
 * Rate-limits job progress: a new phase goes out at once, updates within a phase at most
 * once per interval, and the latest update held back goes out when the interval ends.
 * Used by the worker (about 100 ms, to the host) and by the CLI (to stderr).
 */
import type { JobProgress } from '../protocol/progress';

/** A throttled progress sink; `dispose` drops what is held back and stops the timer. */
export interface ProgressThrottle {
  readonly push: (progress: JobProgress) => void;
  readonly dispose: () => void;
}

/** Wraps `send` so that it is called at most once per `intervalMs` within a phase. */
export function throttleProgress(send: (progress: JobProgress) => void, intervalMs: number): ProgressThrottle {
  let lastPhase: string | undefined;
  let lastSent = -Infinity;
  let held: JobProgress | undefined;
  let timer: NodeJS.Timeout | undefined;

  const emit = (progress: JobProgress): void => {
    clearTimeout(timer);
    timer = undefined;
    held = undefined;
    lastPhase = progress.phase;
    lastSent = Date.now();
    send(progress);
  };

  return {
    push(progress) {
      const wait = lastSent + intervalMs - Date.now();
      if (progress.phase !== lastPhase || wait <= 0) {
        emit(progress);
        return;
      }
      held = progress;
      timer ??= setTimeout(() => {
        if (held !== undefined) emit(held);
      }, wait).unref();
    },
    dispose() {
      clearTimeout(timer);
      timer = undefined;
      held = undefined;
    },
  };
}
