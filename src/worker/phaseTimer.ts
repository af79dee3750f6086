/** Wall-clock seconds of a job and of its phases, for the reports' `diagnostics`. */
export class PhaseTimer {
  private readonly started = Date.now();
  private phaseStart = Date.now();
  /** The phases ended so far, in order (a name may repeat). */
  readonly phases: { name: string; seconds: number }[] = [];

  /** Ends the current phase under `name`; the next one starts now. */
  end(name: string): void {
    const now = Date.now();
    this.phases.push({ name, seconds: (now - this.phaseStart) / 1000 });
    this.phaseStart = now;
  }

  /** Seconds since the job started. */
  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
