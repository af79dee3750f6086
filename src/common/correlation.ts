/**
 * Correlation of two score vectors: Pearson's r (the paper's Fig. 2) and Spearman's ρ, its
 * rank version, robust to a few large effects. Used by the leave-one-out check (engine)
 * and the Case 1 vs Case 2 comparison (host).
 */

/**
 * Pearson's correlation coefficient; NaN for fewer than two pairs or a constant vector.
 *
 * ```tex
 * r = \frac{\sum_i (a_i - \bar a)(b_i - \bar b)}{\sqrt{\sum_i (a_i - \bar a)^2 \sum_i (b_i - \bar b)^2}}
 * ```
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`pearson: lengths ${a.length} and ${b.length} differ`);
  const n = a.length;
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return NaN;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

/** Ranks 1..n, ties sharing the mean of the ranks they span ("fractional" ranks). */
export function averageRanks(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (v[i] as number) - (v[j] as number));
  const ranks = new Float64Array(n);
  let k = 0;
  while (k < n) {
    let end = k + 1;
    while (end < n && v[order[end] as number] === v[order[k] as number]) end++;
    const mean = (k + 1 + end) / 2;
    for (let j = k; j < end; j++) ranks[order[j] as number] = mean;
    k = end;
  }
  return ranks;
}

/**
 * Spearman's rank correlation: Pearson's r of the average ranks (ties handled).
 *
 * ```tex
 * \rho = r\big(\mathrm{rank}(a), \mathrm{rank}(b)\big)
 * ```
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths ${a.length} and ${b.length} differ`);
  return pearson(averageRanks(a), averageRanks(b));
}

/** The median of the values (NaN when empty). */
export function median(v: readonly number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : 0.5 * ((s[mid - 1] as number) + (s[mid] as number));
}
