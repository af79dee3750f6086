/** A short human-readable summary of a trace report, for a terminal. */
import type { RankedExample, TraceReport } from '../protocol/report';

/** The test points, the top harmful and helpful pretraining examples, and solver health. */
export function formatTraceSummary(r: TraceReport, reportPath: string): string {
  const out: string[] = [];
  const testText =
    r.test.length === 1
      ? `test point ${describeTest(r.test[0] as TraceReport['test'][number])}`
      : `${r.test.length} test points (scores summed): ${r.test.slice(0, 8).map((t) => t.id).join(', ')}${r.test.length > 8 ? ', …' : ''}`;
  out.push(`Case ${r.case === 'fixed' ? '1 (embedding fixed)' : '2 (embedding updated)'}, ${testText}`);
  out.push(`${r.pretrainCount} pretraining examples scored on ${r.diagnostics.backend} in ${r.diagnostics.seconds.toFixed(1)} s`);
  const table = (title: string, rows: readonly RankedExample[]): void => {
    out.push('', `${title}:`);
    if (rows.length === 0) out.push('  (none)');
    for (const e of rows) {
      const where = e.line !== undefined ? `line ${e.line}` : `index ${e.index}`;
      out.push(`  ${e.score >= 0 ? '+' : ''}${e.score.toExponential(3)}  ${e.id}${e.text ? ` (${e.text})` : ''}, ${where}`);
    }
  };
  table('Most harmful (up-weighting raises the test loss)', r.harmful);
  table('Most helpful (up-weighting lowers the test loss)', r.helpful);
  out.push('');
  for (const s of r.diagnostics.solves) {
    out.push(`${s.system} solve: ${s.solver}, ${s.dampingForm} damping ${s.damping}, residual ${s.relativeResidual.toExponential(2)}${s.converged ? '' : ' (NOT converged)'}`);
  }
  for (const w of r.diagnostics.warnings) out.push(`warning: ${w}`);
  out.push(`Full report: ${reportPath}`);
  return `${out.join('\n')}\n`;
}

function describeTest(t: TraceReport['test'][number]): string {
  return `${t.id} (label ${JSON.stringify(t.label)}, predicted ${JSON.stringify(t.prediction)}, loss ${t.loss.toFixed(3)})`;
}
