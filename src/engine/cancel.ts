/** Cooperative cancellation for the engine's long loops. */
import { CancelledError } from '../common/errors';

/** Throws {@link CancelledError} if `signal` has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'influence computation'): void {
  if (signal?.aborted) throw new CancelledError(what);
}
