/** Short human-readable summaries of the cleanse and similarity reports, for a terminal. */
import type { ArmMetrics, CleanseArm, CleanseReport } from '../protocol/cleanseReport';
import type { ScoreDistribution, SimilarityReport } from '../protocol/similarityReport';

function metric(m: ArmMetrics): string {
  return `loss ${m.loss.toFixed(4)}${m.accuracy !== null ? `, accuracy ${(100 * m.accuracy).toFixed(2)}%` : ''}`;
}

function signed(v: number, digits = 4): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

/** The arms with their test metrics and changes, and the removed examples. */
export function formatCleanseSummary(r: CleanseReport, reportPath: string, filtered?: string): string {
  const out: string[] = [];
  out.push(
    `Data cleansing, Case ${r.case === 'fixed' ? '1 (embedding fixed)' : '2 (embedding updated)'}: removed ${r.removedCount} of ${r.pretrainCount} pretraining examples (${r.percent}%), ` +
      `scored on ${r.by === 'heldout' ? `${r.scoring.count} held-out finetuning examples` : `the ${r.scoring.count} test points`}`,
  );
  out.push('');
  const row = (name: string, a: CleanseArm): string => {
    const acc = a.change.accuracy === null ? '' : `, Δaccuracy ${signed(100 * a.change.accuracy, 2)} points`;
    return `  ${name.padEnd(12)} test ${metric(a.test)}; Δloss ${signed(a.change.loss)}${acc}`;
  };
  out.push(row('baseline', r.arms.baseline));
  out.push(row('cleansed', r.arms.cleansed));
  r.arms.random.forEach((a, t) => out.push(row(`random ${t + 1}`, a)));
  const s = r.randomSummary;
  if (s.lossChange !== null) {
    out.push(
      `  random mean  Δloss ${signed(s.lossChange.mean)} ± ${s.lossChange.sd.toFixed(4)}` +
        (s.accuracyChange ? `, Δaccuracy ${signed(100 * s.accuracyChange.mean, 2)} ± ${(100 * s.accuracyChange.sd).toFixed(2)} points` : ''),
    );
  }
  out.push('', r.summary, '', 'Most harmful removed:');
  for (const e of r.removed.slice(0, 10)) {
    out.push(`  +${e.score.toExponential(3)}  ${e.id}${e.text ? ` (${e.text})` : ''}${e.line !== undefined ? `, line ${e.line}` : `, index ${e.index}`}`);
  }
  if (r.removed.length > 10) out.push(`  … and ${r.removed.length - 10} more (see the report)`);
  for (const w of r.diagnostics.warnings) out.push(`warning: ${w}`);
  if (filtered !== undefined) out.push(`Filtered pretraining set: ${filtered}`);
  out.push(`Full report: ${reportPath}`);
  return `${out.join('\n')}\n`;
}

function dist(d: ScoreDistribution): string {
  const q = (p: number): string => d.quantiles.find((x) => x.p === p)?.value.toExponential(2) ?? '?';
  return `mean |I| ${d.meanAbs.toExponential(3)}, median |I| ${d.medianAbs.toExponential(3)}, positive ${(100 * d.fractionPositive).toFixed(1)}%, 5%–95% [${q(0.05)}, ${q(0.95)}]`;
}

/** Both sides' statistics (per test point) and the reading. */
export function formatSimilaritySummary(r: SimilarityReport, reportPath: string): string {
  const out: string[] = ['Influence score distributions, per test point:'];
  for (const [name, s] of [['A', r.a], ['B', r.b]] as const) {
    out.push(`  ${name}: ${s.config}`);
    out.push(`     m = ${s.pretrainCount}, n = ${s.finetuneTrainCount}, ${s.testCount} test point${s.testCount === 1 ? '' : 's'} (${s.test}), ${s.case}`);
    out.push(`     ${dist(s.perTestPoint)}`);
  }
  out.push('', ...r.reading, `Full report: ${reportPath}`);
  return `${out.join('\n')}\n`;
}
