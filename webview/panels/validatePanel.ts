/**
 * The leave-one-out check (the paper's Fig. 2): a scatter of the predicted change of the
 * test loss (−I/m) against the actual change after retraining without each sampled
 * pretraining example, Pearson's r and Spearman's ρ per half of the sample (largest
 * |score|, random) for the method and both baselines, the noise-floor verdict, the
 * warnings and the rows. A point or row opens its example.
 */
import { OpenExampleCommand } from '../../src/protocol/webviewProtocol';
import { retrainObjectiveText } from '../../src/protocol/retrainObjectiveText';
import type { CorrelationCell, CorrelationRowView, ValidatePanelModel, ValidateRowView } from '../../src/protocol/webviewProtocol';
import type { PanelContext } from '../app';
import { checkbox, tag } from '../components/toolkit';
import { clear, h } from '../render/dom';
import { caseName, formatSmall } from '../render/format';
import { scatter } from '../render/scatter';

const PARTS = ['top', 'random', 'all'] as const;

function r(v: number | null): string {
  return v === null ? '—' : v.toFixed(3);
}

/** One cell of the correlation table: r, with ρ beside it. */
function cell(c: CorrelationCell, testId: string): HTMLElement {
  return h(
    'td',
    { 'data-testid': testId, 'data-pearson': c.pearson === null ? 'null' : String(c.pearson), 'data-spearman': c.spearman === null ? 'null' : String(c.spearman), 'data-n': c.n },
    h('span', { class: 'r' }, r(c.pearson)),
    h('span', { class: 'muted' }, ` (ρ ${r(c.spearman)})`),
  );
}

function correlationTable(model: ValidatePanelModel): HTMLElement {
  const c = model.correlations;
  const heads = { top: 'largest |score|', random: 'random', all: 'all' } as const;
  const row = (name: string, key: string, set: CorrelationRowView): HTMLElement =>
    h('tr', { 'data-predictor': key }, h('th', { scope: 'row' }, name), ...PARTS.map((p) => cell(set[p], `r-${key}-${p}`)));
  return h(
    'table',
    { class: 'correlations', 'data-testid': 'validate-correlations' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Pearson r (Spearman ρ)'), ...PARTS.map((p) => h('th', { scope: 'col' }, `${heads[p]} (n = ${c.influence[p].n})`)))),
    h('tbody', {}, row('influence −I/m', 'influence', c.influence), row('identity Hessians', 'identity', c.identity), row('random scores', 'random', c.random)),
  );
}

function noiseFloorSection(model: ValidatePanelModel): HTMLElement {
  const nf = model.noiseFloor;
  const med = (v: number | null): string => (v === null ? '—' : formatSmall(v));
  const bad = (['top', 'random'] as const).filter((k) => nf.comparable[k]);
  const verdict =
    bad.length === 0
      ? `below ${nf.threshold} × the median |actual change| of both halves: the changes measured are not retraining noise.`
      : `comparable to the effects in the ${bad.map((k) => (k === 'top' ? 'largest-|score|' : 'random')).join(' and ')} half (above ${nf.threshold} × its median |actual change|): correlations there measure noise as much as influence.`;
  return h(
    'p',
    { class: bad.length === 0 ? 'noise-ok' : 'noise-bad', 'data-testid': 'noise-floor', 'data-comparable': bad.join(',') || 'none', 'data-spread': String(nf.spread) },
    h('strong', {}, 'Noise floor: '),
    `two retrainings without removal, differing only in summation order, end ${formatSmall(nf.spread)} apart; median |actual change| ${med(nf.medianAbsActual.top)} (largest |score|), ${med(nf.medianAbsActual.random)} (random). The noise floor is ${verdict}`,
  );
}

function rowsTable(model: ValidatePanelModel, open: (index: number) => void): HTMLElement {
  const header = ['example', 'sample', 'score I', 'predicted −I/m', 'actual ΔL', 'identity −I/m', 'converged'];
  const tr = (x: ValidateRowView): HTMLElement => {
    const row = h(
      'tr',
      {
        class: `validate-row${x.converged ? '' : ' unconverged'}`,
        'data-testid': 'validate-row',
        'data-index': x.index,
        'data-sample': x.sample,
        tabindex: 0,
        title: `Open pretraining example ${x.id}${x.line !== undefined ? ` (line ${x.line})` : ''}`,
      },
      h('td', { class: 'id' }, x.id, x.text ? h('span', { class: 'muted' }, ` ${x.text}`) : null),
      h('td', {}, x.sample === 'top' ? tag('top |score|') : 'random'),
      h('td', { class: 'num' }, formatSmall(x.score)),
      h('td', { class: 'num' }, formatSmall(x.predicted)),
      h('td', { class: 'num' }, formatSmall(x.actual)),
      h('td', { class: 'num' }, formatSmall(x.identityPredicted)),
      h('td', {}, x.converged ? 'yes' : 'no'),
    );
    row.addEventListener('click', () => open(x.index));
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        open(x.index);
      }
    });
    return row;
  };
  return h(
    'table',
    { class: 'validate-rows' },
    h('thead', {}, h('tr', {}, ...header.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...model.rows.map(tr)),
  );
}

export function validatePanel(model: ValidatePanelModel, ctx: PanelContext): HTMLElement {
  const open = (index: number): void => ctx.host.command(OpenExampleCommand, { role: 'pretrain', index });
  const tests = model.testPoints.length === 1 ? `test point ${model.testPoints[0]?.id}` : `${model.testPoints.length} test points (losses summed)`;
  const rt = model.retrain;
  const objective = retrainObjectiveText(rt);

  const chartBox = h('div', { class: 'chart-box' });
  const drawChart = (identity: boolean): void => {
    clear(chartBox);
    const x = model.rows.map((row) => (identity ? row.identityPredicted : row.predicted));
    const chart = scatter({
      x,
      y: model.rows.map((row) => row.actual),
      xLabel: identity ? 'predicted change, identity Hessians' : 'predicted change −I/m',
      yLabel: 'actual change ΔL',
      asinh: false,
      testId: 'validate-scatter',
      highlight: model.rows.map((row) => row.sample === 'top'),
      diagonal: !identity,
      describe: (i) => {
        const row = model.rows[i] as ValidateRowView;
        return `${row.id} (${row.sample === 'top' ? 'largest |score|' : 'random'}): predicted ${formatSmall(x[i] as number)}, actual ${formatSmall(row.actual)} (click to open)`;
      },
      onPick: (i) => open((model.rows[i] as ValidateRowView).index),
    });
    chartBox.append(chart.element);
    requestAnimationFrame(chart.redraw);
  };
  const identity = ctx.ui['identity'] === true;
  drawChart(identity);

  return h(
    'div',
    { class: 'validate' },
    h(
      'header',
      {},
      h('h1', {}, 'Leave-one-out check'),
      h(
        'p',
        { class: 'sub' },
        `${model.configLabel} · ${caseName(model.case)} · ${tests} · ${model.rows.length} of ${model.pretrainCount} pretraining examples retrained without (seed ${model.seed})`,
      ),
    ),
    h('section', { class: 'stats' }, correlationTable(model)),
    noiseFloorSection(model),
    model.warnings.length > 0 ? h('ul', { class: 'warnings', role: 'alert', 'data-testid': 'validate-warnings' }, ...model.warnings.map((w) => h('li', {}, w))) : null,
    h(
      'section',
      { class: 'scatter-section' },
      h('h2', {}, 'Predicted against actual change of the test loss ', h('span', { class: 'hint' }, 'orange: largest |score|, blue: random; dashed: y = x')),
      h('div', { class: 'chart-controls' }, checkbox('identity-Hessian baseline on x', identity, (on) => {
        ctx.setUi('identity', on);
        drawChart(on);
      })),
      chartBox,
    ),
    h('section', {}, h('h2', {}, 'Sampled pretraining examples'), rowsTable(model, open)),
    h(
      'p',
      { class: 'sub', 'data-testid': 'validate-retrain' },
      `Retraining: L-BFGS from the saved weights, ${objective}, ‖∇‖ ≤ ${formatSmall(rt.gradientTolerance)} or ${rt.maxIterations} steps per stage; ` +
        `${rt.runs} runs (base, noise floor, one per example), ${rt.unconvergedRuns} not converged. ` +
        `Test loss: saved ${model.testLoss.saved.toPrecision(6)}, retrained on everything ${model.testLoss.base.toPrecision(6)}. ` +
        `${model.seconds.toFixed(1)} s on ${model.backend}.`,
    ),
  );
}
