/**
 * Runs a worker job under a cancellable progress notification: the notification's
 * Cancel aborts the job (AbortController → WorkerClient signal → `$/cancelRequest` →
 * the engine's loop), and the worker's progress shows as percentage and ETA.
 */
import * as vscode from 'vscode';
import { isCancelled } from '../../common/errors';
import type { JobCallOptions } from '../../worker/workerClient';
import { ProgressTracker } from './progressFormat';

/** A job that was cancelled: a value, not an error. */
export const CANCELLED = Symbol('cancelled');
export type Cancelled = typeof CANCELLED;

/**
 * @param signal also cancels the job (e.g. the quick pick that wanted it closed).
 */
export function withJobProgress<R>(title: string, job: (call: JobCallOptions) => Promise<R>, signal?: AbortSignal): Promise<R | Cancelled> {
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      const abort = (): void => controller.abort();
      signal?.addEventListener('abort', abort, { once: true });
      if (signal?.aborted) controller.abort();
      const tracker = new ProgressTracker(Date.now());
      progress.report({ message: 'starting…' });
      try {
        return await job({
          signal: controller.signal,
          onProgress: (p) => progress.report(tracker.update(p, Date.now())),
        });
      } catch (e) {
        if (isCancelled(e) || controller.signal.aborted) return CANCELLED;
        throw e;
      } finally {
        subscription.dispose();
        signal?.removeEventListener('abort', abort);
      }
    }),
  );
}
