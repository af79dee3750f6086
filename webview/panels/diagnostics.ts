/** Solver diagnostics: each inverse-Hessian-vector product solve, its residuals, the settings and warnings. */
import type { DiagnosticsView } from '../../src/protocol/webviewProtocol';
import { h } from '../render/dom';
import { formatSmall } from '../render/format';
import { residualPlot } from '../render/residualPlot';

export function diagnosticsSection(d: DiagnosticsView): HTMLElement {
  const header = ['system', 'solver', 'damping', 'dimension', 'iterations', 'relative residual', 'converged', 'negative curvature', 'eigenvalues'];
  const rows = d.solves.map((s) =>
    h(
      'tr',
      { class: s.converged ? '' : 'unconverged', 'data-system': s.system, 'data-converged': String(s.converged) },
      h('td', {}, s.system),
      h('td', {}, s.solver),
      h('td', {}, `${formatSmall(s.damping)} (${s.dampingForm})`),
      h('td', {}, String(s.dimension)),
      h('td', {}, String(s.iterations)),
      h('td', {}, formatSmall(s.relativeResidual)),
      h('td', {}, s.converged ? 'yes' : 'no'),
      h('td', {}, s.negativeCurvatureAt === null ? 'none' : `at iteration ${s.negativeCurvatureAt}`),
      h('td', {}, s.minEigenvalue !== undefined ? `${formatSmall(s.minEigenvalue)} … ${formatSmall(s.maxEigenvalue ?? NaN)}` : '—'),
    ),
  );
  const settings = Object.entries(d.settings).map(([k, v]) => h('li', {}, h('span', { class: 'muted' }, `${k} `), String(v)));
  const facts: string[] = [`backend ${d.backend}`, `${d.seconds.toFixed(1)} s`];
  if (d.hessianSampleCount !== undefined) facts.push(`Hessian from ${d.hessianSampleCount} pretraining examples`);
  if (d.parameters) facts.push(`parameters ${Object.entries(d.parameters).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (d.gradientNorms) facts.push(`gradient norms ${Object.entries(d.gradientNorms).map(([k, v]) => `${k} ${formatSmall(v)}`).join(', ')}`);
  return h(
    'section',
    { class: 'diagnostics', 'data-testid': 'solver-diagnostics' },
    h('h2', {}, 'Solver diagnostics'),
    h('p', { class: 'sub' }, facts.join(' · ')),
    d.warnings.length > 0 ? h('ul', { class: 'warnings', role: 'alert' }, ...d.warnings.map((w) => h('li', {}, w))) : null,
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...header.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows),
    ),
    residualPlot(d.solves.filter((s) => s.solver === 'cg').map((s) => ({ name: `${s.system} (${s.iterations} it.)`, residuals: s.residuals }))),
    h('details', {}, h('summary', {}, 'Influence settings'), h('ul', { class: 'settings' }, ...settings)),
  );
}
