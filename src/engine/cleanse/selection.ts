/**
 * Which pretraining examples data cleansing removes (Chen et al., 2020, §4.2), which it
 * removes at random for comparison, and the held-out split that scores them. Pure and
 * seeded: equal inputs give equal selections.
 */
import { MsifError } from '../../common/errors';
import { sampleIndices } from '../influence/sampling';

/**
 * How many of `m` examples `percent` % is: round(percent·m/100), halves rounded up.
 *
 * @throws MsifError (`usage`) for a percentage outside (0, 100) or one that selects no example.
 */
export function removalCount(m: number, percent: number): number {
  if (!Number.isFinite(percent) || percent <= 0 || percent >= 100) {
    throw new MsifError('usage', `--percent is ${percent}`, { field: '--percent', expected: 'a number greater than 0 and less than 100' });
  }
  // The small epsilon keeps 12.5% of 40 at 5 despite 12.5·40/100 = 4.999… in floating point.
  const k = Math.floor((percent * m) / 100 + 0.5 + 1e-9);
  if (k < 1) {
    throw new MsifError('usage', `${percent}% of ${m} pretraining examples is no example`, { field: '--percent', expected: `at least ${(50 / m).toPrecision(3)}% (half an example)` });
  }
  return Math.min(k, m - 1);
}

/**
 * The `k` most harmful examples: the largest positive scores I(z, ·) > 0, largest first;
 * equal scores keep dataset order. Fewer than `k` when fewer scores are positive:
 * removing a helpful example (I < 0) is expected to raise the loss, so cleansing never does.
 */
export function topHarmful(scores: ArrayLike<number>, k: number): number[] {
  const positive: number[] = [];
  for (let i = 0; i < scores.length; i++) if ((scores[i] as number) > 0) positive.push(i);
  positive.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  return positive.slice(0, Math.max(0, k));
}

/** `k` distinct indices of 0…m−1, uniform and seeded, ascending. */
export function randomRemoval(m: number, k: number, seed: number): number[] {
  return sampleIndices(m, k, seed);
}

/**
 * The seed of random trial `trial` under the run's `seed`: distinct trials and distinct
 * run seeds give distinct streams (a 32-bit integer hash).
 */
export function trialSeed(seed: number, trial: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(trial + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Splits the finetuning training set 0…n−1 into a held-out part of round(fraction·n)
 * seeded indices and the rest; both ascending, disjoint, covering 0…n−1, neither empty.
 */
export function heldoutSplit(n: number, fraction: number, seed: number): { heldout: number[]; train: number[] } {
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
    throw new MsifError('usage', `--heldout-fraction is ${fraction}`, { field: '--heldout-fraction', expected: 'a number greater than 0 and less than 1' });
  }
  if (n < 2) throw new MsifError('usage', `the finetuning set has ${n} example, too few to hold some out`, { field: '--by', expected: 'test, or a finetuning set of at least 2 examples' });
  const k = Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  // A different stream from the random removals of the same seed.
  const heldout = sampleIndices(n, k, trialSeed(seed, -2));
  const held = new Set(heldout);
  const train: number[] = [];
  for (let i = 0; i < n; i++) if (!held.has(i)) train.push(i);
  return { heldout, train };
}

/** Mean and sample standard deviation (n − 1 in the denominator; 0 for a single value). */
export function meanSd(values: readonly number[]): { mean: number; sd: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, n };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, sd: 0, n };
  const ss = values.reduce((s, v) => s + (v - mean) * (v - mean), 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)), n };
}

/**
 * The change of the mean loss over a scoring set of `n` points that the influence scores
 * predict for removing `removed` from a pretraining set of `m`:
 *
 * ```tex
 * \Delta \bar L \approx -\frac{1}{m\,n} \sum_{i \in S} I(z_i, X_s)
 * ```
 *
 * where I(z_i, X_s) is the score summed over the scoring set (contract §1, eq. 8).
 */
export function predictedLossChange(scores: ArrayLike<number>, removed: readonly number[], m: number, n: number): number {
  let s = 0;
  for (const i of removed) s += scores[i] as number;
  return -s / (m * n);
}
