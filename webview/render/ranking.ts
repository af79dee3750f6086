/**
 * The order of the pretraining examples in the harmful and helpful lists, matching
 * `msif trace`: harmful by descending score, helpful by ascending score (the descending
 * order reversed), only positive / negative scores.
 */

/** Indices by descending score; ties in dataset order (stable sort). */
function descending(scores: readonly number[]): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
}

export interface Rankings {
  readonly harmful: number[];
  readonly helpful: number[];
}

export function rankings(scores: readonly number[]): Rankings {
  const order = descending(scores);
  return {
    harmful: order.filter((i) => (scores[i] as number) > 0),
    helpful: order.filter((i) => (scores[i] as number) < 0).reverse(),
  };
}
