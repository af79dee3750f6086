/**
 * Statistics of influence score vectors for the panels: ranks, top lists, the
 * log-density histogram of the paper's Fig. 5, Spearman's rank correlation between the
 * two cases, and the overlap of their top lists. Pure functions on number arrays.
 */
import type { HistogramView } from '../../protocol/webviewProtocol';

/** Indices sorted by score, largest first; ties keep dataset order (a stable sort). */
export function orderDescending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
}

/**
 * The rank of every example by score, largest first (1 = the most harmful); ties are
 * ranked in dataset order, as the report's top lists order them.
 */
export function ranksDescending(scores: ArrayLike<number>): Int32Array {
  const ranks = new Int32Array(scores.length);
  orderDescending(scores).forEach((index, position) => {
    ranks[index] = position + 1;
  });
  return ranks;
}

/**
 * The top `k` harmful (largest positive) or helpful (most negative) examples, in the
 * order `msif trace` lists them: harmful by descending score, helpful by ascending.
 */
export function topIndices(scores: ArrayLike<number>, k: number, which: 'harmful' | 'helpful'): number[] {
  const order = orderDescending(scores);
  if (which === 'harmful') return order.filter((i) => (scores[i] as number) > 0).slice(0, k);
  return order
    .filter((i) => (scores[i] as number) < 0)
    .reverse()
    .slice(0, k);
}

/**
 * A histogram of `scores` with `bins` equal-width bins from the smallest to the largest
 * score, with the log10 of the density in each bin.
 *
 * ```tex
 * \hat p_j = \frac{c_j}{n\,h}, \qquad y_j = \log_{10} \hat p_j
 * ```
 *
 * where c_j is the count of bin j, n the number of scores and h the bin width. The last
 * bin is closed on the right. Non-finite scores are left out (and not counted in n).
 * When every score is equal the histogram has one bin of width 1 centred on it.
 */
export function logDensityHistogram(scores: ArrayLike<number>, bins = 60): HistogramView {
  let min = Infinity;
  let max = -Infinity;
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!Number.isFinite(s)) continue;
    total++;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  if (total === 0) return { min: 0, max: 0, binWidth: 0, counts: [], logDensity: [], total: 0 };
  let n = Math.max(1, Math.floor(bins));
  if (min === max) {
    n = 1;
    min -= 0.5;
    max += 0.5;
  }
  const binWidth = (max - min) / n;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (!Number.isFinite(s)) continue;
    const j = Math.min(n - 1, Math.floor((s - min) / binWidth));
    counts[j] = (counts[j] as number) + 1;
  }
  const logDensity = counts.map((c) => (c > 0 ? Math.log10(c / (total * binWidth)) : null));
  return { min, max, binWidth, counts, logDensity, total };
}

export { averageRanks, pearson, spearman } from '../../common/correlation';

/** How many of the top `k` harmful and helpful examples the two score vectors share. */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number): { harmful: number; helpful: number } {
  const count = (which: 'harmful' | 'helpful'): number => {
    const inB = new Set(topIndices(b, k, which));
    return topIndices(a, k, which).filter((i) => inB.has(i)).length;
  };
  return { harmful: count('harmful'), helpful: count('helpful') };
}
