/**
 * When to restart the engine worker on its own, in the manner of vscode-eslint's
 * `errorHandler.closed`: restarts are free until the worker has crashed `maxCrashes`
 * times within `windowMs`; from then on the user is asked first.
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    readonly maxCrashes = 5,
    readonly windowMs = 3 * 60 * 1000,
  ) {}

  /** Records a crash (an unexpected exit or a failed start) at time `now` (ms). */
  recordCrash(now: number): void {
    this.crashes.push(now);
    this.prune(now);
  }

  /** Crashes within the window ending at `now`. */
  recentCrashes(now: number): number {
    this.prune(now);
    return this.crashes.length;
  }

  /** True when a restart at `now` needs the user's consent. */
  mustAsk(now: number): boolean {
    return this.recentCrashes(now) >= this.maxCrashes;
  }

  /** Forgets the crashes (after the user asked for a restart). */
  reset(): void {
    this.crashes = [];
  }

  private prune(now: number): void {
    this.crashes = this.crashes.filter((t) => now - t < this.windowMs);
  }
}
