/**
 * Statistics of influence score vectors for the panels: ranks, top lists, the
 * log-density histogram of the paper's Fig. 5, Spearman's rank correlation between the
 * two cases, and the overlap of their top lists. Pure functions on number arrays.
 */

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

export { logDensityHistogram } from '../../common/histogram';

export { averageRanks, pearson, spearman } from '../../common/correlation';

/** How many of the top `k` harmful and helpful examples the two score vectors share. */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number): { harmful: number; helpful: number } {
  const count = (which: 'harmful' | 'helpful'): number => {
    const inB = new Set(topIndices(b, k, which));
    return topIndices(a, k, which).filter((i) => inB.has(i)).length;
  };
  return { harmful: count('harmful'), helpful: count('helpful') };
}
