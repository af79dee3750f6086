/**
 * Statistics for comparing the influence-score distributions of two workspaces (Chen et
 * al., 2020, §4.3–4.4, Fig. 5): moments, quantiles, sign fractions and log-density
 * histograms on bins shared by both. Pure functions on number arrays.
 */

/**
 * The p-quantile of ascending `sorted` values, by linear interpolation between order
 * statistics (Hyndman & Fan type 7):
 *
 * ```tex
 * h = (n-1)\,p, \qquad Q(p) = x_{(\lfloor h \rfloor)} + (h - \lfloor h \rfloor)\,(x_{(\lfloor h \rfloor + 1)} - x_{(\lfloor h \rfloor)})
 * ```
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  return a + (h - lo) * ((sorted[hi] as number) - a);
}

/** The quantiles every distribution reports. */
export const QUANTILE_LEVELS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

export interface DistributionStats {
  readonly count: number;
  readonly mean: number;
  readonly sd: number;
  readonly meanAbs: number;
  readonly medianAbs: number;
  readonly maxAbs: number;
  readonly fractionPositive: number;
  readonly fractionNegative: number;
  readonly quantiles: { readonly p: number; readonly value: number }[];
}

/**
 * Mean, population standard deviation, mean and median of |s|, the largest |s|, the
 * fractions of positive and negative values and the {@link QUANTILE_LEVELS} quantiles of
 * the finite values of `scores` (non-finite ones are left out).
 */
export function distributionStats(scores: ArrayLike<number>): DistributionStats {
  const v: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (Number.isFinite(s)) v.push(s);
  }
  const n = v.length;
  if (n === 0) return { count: 0, mean: NaN, sd: NaN, meanAbs: NaN, medianAbs: NaN, maxAbs: NaN, fractionPositive: NaN, fractionNegative: NaN, quantiles: [] };
  let sum = 0;
  let sumAbs = 0;
  let maxAbs = 0;
  let pos = 0;
  let neg = 0;
  for (const s of v) {
    sum += s;
    sumAbs += Math.abs(s);
    maxAbs = Math.max(maxAbs, Math.abs(s));
    if (s > 0) pos++;
    else if (s < 0) neg++;
  }
  const mean = sum / n;
  let ss = 0;
  for (const s of v) ss += (s - mean) * (s - mean);
  const sorted = Float64Array.from(v).sort();
  const abs = Float64Array.from(v, Math.abs).sort();
  return {
    count: n,
    mean,
    sd: Math.sqrt(ss / n),
    meanAbs: sumAbs / n,
    medianAbs: quantileSorted(abs, 0.5),
    maxAbs,
    fractionPositive: pos / n,
    fractionNegative: neg / n,
    quantiles: QUANTILE_LEVELS.map((p) => ({ p, value: quantileSorted(sorted, p) })),
  };
}

export interface Histogram {
  readonly min: number;
  readonly max: number;
  readonly binWidth: number;
  readonly counts: number[];
  readonly logDensity: (number | null)[];
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

/** log10 |s| of the non-zero finite values of `scores`. */
export function logMagnitudes(scores: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (Number.isFinite(s) && s !== 0) out.push(Math.log10(Math.abs(s)));
  }
  return Float64Array.from(out);
}
