/**
 * `msif similarity` (Chen et al., NeurIPS 2020, §4.3–4.4): traces two workspaces and
 * compares the distributions of their influence scores, normalised per test point.
 */
import * as tf from '@tensorflow/tfjs';
import { MsifError } from '../common/errors';
import { commonLogDensityHistograms, distributionStats, logMagnitudes } from '../engine/similarity/scoreDistribution';
import type { DistributionStats, Histogram } from '../engine/similarity/scoreDistribution';
import type { TraceReport } from '../protocol/report';
import type { SimilarityOptions, SimilarityReport, SimilaritySide } from '../protocol/similarityReport';
import { loadWorkspace, runTrace } from './jobs';
import type { JobContext } from './jobs';

/** Bins of the common histograms. */
export const SIMILARITY_BINS = 60;

/** One workspace's trace and the sizes of its training sets. */
export interface SimilarityInput {
  readonly config: string;
  readonly test: string;
  readonly report: TraceReport;
  readonly finetuneTrainCount: number;
}

/** Traces both workspaces (one after the other) and compares their score distributions. */
export async function runSimilarity(configA: string, configB: string, options: SimilarityOptions, ctx: JobContext = {}): Promise<SimilarityReport> {
  const started = Date.now();
  const test = options.test ?? 'all';
  const one = async (config: string, lo: number, label: string): Promise<SimilarityInput> => {
    const sub: JobContext = {
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.log ? { log: (line: string) => ctx.log?.(`${label}: ${line}`) } : {}),
      onProgress: (p) => ctx.onProgress?.({ ...p, phase: `${label} ${p.phase}`, fraction: lo + 0.5 * (p.fraction ?? 0) }),
    };
    const ws = await loadWorkspace(config, sub);
    const finetuneTrainCount = ws.finetuneTrain.count;
    ws.dispose();
    const report = await runTrace(
      config,
      { test, ...(options.case ? { case: options.case } : {}), ...(options.overrides ? { overrides: options.overrides } : {}), top: 0 },
      sub,
    );
    return { config, test, report, finetuneTrainCount };
  };
  const a = await one(configA, 0, 'A');
  const b = await one(configB, 0.5, 'B');
  return similarityReport(a, b, { backend: tf.getBackend(), seconds: (Date.now() - started) / 1000 });
}

/**
 * Compares two traces: statistics of their scores per test point (each trace's summed
 * scores divided by its number of test points), histograms on common bins, and the
 * reading of §4.3–4.4.
 */
export function similarityReport(a: SimilarityInput, b: SimilarityInput, diagnostics: { backend: string; seconds: number }): SimilarityReport {
  for (const s of [a, b]) {
    if (s.report.test.length === 0) throw new MsifError('usage', `the trace of ${s.config} selected no test point`, { field: '--test', expected: 'a selection of at least one test point' });
  }
  const perA = perTestPoint(a.report);
  const perB = perTestPoint(b.report);
  const [histA, histB] = commonLogDensityHistograms([perA, perB], SIMILARITY_BINS) as [Histogram, Histogram];
  const [magA, magB] = commonLogDensityHistograms([logMagnitudes(perA), logMagnitudes(perB)], SIMILARITY_BINS) as [Histogram, Histogram];
  const side = (s: SimilarityInput, per: Float64Array, histogram: Histogram, magnitudeHistogram: Histogram): SimilaritySide => {
    const unconverged = s.report.diagnostics.solves.filter((d) => !d.converged);
    return {
      config: s.config,
      case: s.report.case,
      test: s.test,
      testCount: s.report.test.length,
      pretrainCount: s.report.pretrainCount,
      finetuneTrainCount: s.finetuneTrainCount,
      perTestPoint: distributionStats(per),
      summed: distributionStats(s.report.scores),
      histogram,
      magnitudeHistogram,
      warnings: [...s.report.diagnostics.warnings],
      converged: unconverged.length === 0,
    };
  };
  const sa = side(a, perA, histA, magA);
  const sb = side(b, perB, histB, magB);
  const ratio = { meanAbs: sa.perTestPoint.meanAbs / sb.perTestPoint.meanAbs, medianAbs: sa.perTestPoint.medianAbs / sb.perTestPoint.medianAbs };
  return {
    version: 1,
    kind: 'similarity',
    normalization: 'per-test-point',
    a: sa,
    b: sb,
    ratio,
    reading: similarityReading(sa, sb, ratio.meanAbs),
    diagnostics,
  };
}

/** The trace's scores divided by its number of test points. */
function perTestPoint(r: TraceReport): Float64Array {
  const n = Math.max(1, r.test.length);
  return Float64Array.from(r.scores, (s) => s / n);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(3) : String(v);
}

/** The comparison in the words of §4.3 (task similarity) and §4.4 (finetuning-set size). */
export function similarityReading(a: SimilaritySide, b: SimilaritySide, ratio: number): string[] {
  const out: string[] = [];
  const stat = (s: DistributionStats): string => `mean |I| ${fmt(s.meanAbs)}, median |I| ${fmt(s.medianAbs)}`;
  out.push(`Per test point: A ${stat(a.perTestPoint)}; B ${stat(b.perTestPoint)}.`);
  if (!Number.isFinite(ratio)) {
    out.push('One side has no non-zero score, so the magnitudes cannot be compared.');
    return out;
  }
  const larger = ratio >= 1 ? 'A' : 'B';
  const factor = ratio >= 1 ? ratio : 1 / ratio;
  if (factor < 1.25) {
    out.push(`The magnitudes are similar (A/B = ${fmt(ratio)}): neither workspace's pretraining data is markedly more influential.`);
  } else {
    out.push(`${larger}'s pretraining examples are ${fmt(factor)}× as influential on average (mean |I| per test point, A/B = ${fmt(ratio)}).`);
    out.push(
      `§4.3: influence magnitudes are larger when the pretraining and finetuning tasks are more similar, so where the two workspaces differ mainly in their tasks, ${larger}'s pair of tasks reads as the more similar one.`,
    );
  }
  const nA = a.finetuneTrainCount;
  const nB = b.finetuneTrainCount;
  if (nA !== nB) {
    const smaller = nA < nB ? 'A' : 'B';
    const consistent = factor >= 1.25 && smaller === larger;
    out.push(
      `§4.4: a larger finetuning set gives smaller influence magnitudes; A finetunes on ${nA} examples and B on ${nB}` +
        (factor < 1.25 ? '.' : consistent ? `, so ${smaller}'s larger magnitudes agree with its smaller finetuning set.` : `, so the size alone does not explain why ${larger}'s magnitudes are larger.`),
    );
  } else {
    out.push(`Both finetune on ${nA} examples, so the finetuning-set size (§4.4) does not enter the comparison.`);
  }
  if (a.pretrainCount !== b.pretrainCount) {
    out.push(`The pretraining sets differ in size (m = ${a.pretrainCount} and ${b.pretrainCount}); removing one example changes the test loss by about −I/m, so per-example effects scale with 1/m as well.`);
  }
  for (const [name, s] of [['A', a], ['B', b]] as const) {
    if (!s.converged) out.push(`${name}'s trace has an unconverged solve: its scores are less reliable (see its warnings).`);
  }
  return out;
}
