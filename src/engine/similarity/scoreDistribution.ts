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

export { commonLogDensityHistograms } from '../../common/histogram';
export type { Histogram } from '../../common/histogram';

/** log10 |s| of the non-zero finite values of `scores`. */
export function logMagnitudes(scores: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (Number.isFinite(s) && s !== 0) out.push(Math.log10(Math.abs(s)));
  }
  return Float64Array.from(out);
}
