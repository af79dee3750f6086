/** Number formatting for the panels. */

/** A score to 3 significant digits, as the CodeLens shows it. */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toPrecision(3) : String(score);
}

/** Compact axis label: 0, 1.5e-3, 120, 1.2e+4. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

export function caseName(kase: string): string {
  return kase === 'fixed' ? 'Case 1 (embedding fixed)' : kase === 'updated' ? 'Case 2 (embedding updated)' : kase;
}

/** A residual or damping: 3.1e-4. */
export function formatSmall(v: number): string {
  return Number.isFinite(v) ? v.toExponential(2) : String(v);
}
