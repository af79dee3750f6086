/**
 * Log-density histograms of score vectors (the paper's Fig. 5): the trace panel's, and the
 * task-similarity comparison's on bins shared by two workspaces. Pure functions.
 */

/** Equal-width bins over [min, max] with log10 densities (reports and panels carry it as is). */
export interface Histogram {
  readonly min: number;
  readonly max: number;
  readonly binWidth: number;
  readonly counts: number[];
  /** log10(count / (n · binWidth)); null for an empty bin. */
  readonly logDensity: (number | null)[];
  /** n: the values binned. */
  readonly total: number;
}

/**
 * Histograms of several vectors on one set of `bins` equal-width bins spanning the
 * finite values of all of them, each with its own log10 density:
 *
 * ```tex
 * y_{kj} = \log_{10} \frac{c_{kj}}{n_k\, h}
 * ```
 *
 * for vector k with n_k finite values, c_kj of them in bin j, and bin width h. The last
 * bin is closed on the right; when every value is equal there is one bin of width 1
 * centred on it. Empty bins have density null.
 */
export function commonLogDensityHistograms(vectors: readonly ArrayLike<number>[], bins = 60): Histogram[] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of vectors) {
    for (let i = 0; i < v.length; i++) {
      const s = v[i] as number;
      if (!Number.isFinite(s)) continue;
      if (s < min) min = s;
      if (s > max) max = s;
    }
  }
  if (min > max) return vectors.map(() => ({ min: 0, max: 0, binWidth: 0, counts: [], logDensity: [], total: 0 }));
  let nb = Math.max(1, Math.floor(bins));
  if (min === max) {
    nb = 1;
    min -= 0.5;
    max += 0.5;
  }
  const binWidth = (max - min) / nb;
  return vectors.map((v) => {
    const counts = new Array<number>(nb).fill(0);
    let total = 0;
    for (let i = 0; i < v.length; i++) {
      const s = v[i] as number;
      if (!Number.isFinite(s)) continue;
      total++;
      const j = Math.min(nb - 1, Math.max(0, Math.floor((s - min) / binWidth)));
      counts[j] = (counts[j] as number) + 1;
    }
    const logDensity = counts.map((c) => (c > 0 ? Math.log10(c / (total * binWidth)) : null));
    return { min, max, binWidth, counts, logDensity, total };
  });
}

/** The histogram of one vector: {@link commonLogDensityHistograms} of it alone. */
export function logDensityHistogram(scores: ArrayLike<number>, bins = 60): Histogram {
  return commonLogDensityHistograms([scores], bins)[0] as Histogram;
}
