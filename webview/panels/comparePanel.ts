/**
 * Case 1 (embedding fixed) against Case 2 (embedding updated) for the same test points:
 * a scatter of the two score vectors, Spearman's rank correlation, the overlap of the
 * top-K lists and the four lists side by side.
 */
import { OpenExampleCommand } from '../../src/protocol/webviewProtocol';
import type { ComparePanelModel, RankedRow, TraceResultView } from '../../src/protocol/webviewProtocol';
import type { PanelContext } from '../app';
import { checkbox } from '../components/toolkit';
import { clear, h } from '../render/dom';
import { caseName } from '../render/format';
import { chunkedList, exampleRow } from '../render/rows';
import { scatter } from '../render/scatter';

export function comparePanel(model: ComparePanelModel, ctx: PanelContext): HTMLElement {
  const open = (index: number): void => ctx.host.command(OpenExampleCommand, { role: 'pretrain', index });
  const k = model.topK;
  const rho = Number.isFinite(model.spearman) ? model.spearman.toFixed(4) : 'undefined (a constant score vector)';
  const chartBox = h('div', { class: 'chart-box' });
  const drawChart = (asinh: boolean): void => {
    clear(chartBox);
    const chart = scatter({
      x: model.case1.scores,
      y: model.case2.scores,
      xLabel: 'Case 1 score',
      yLabel: 'Case 2 score',
      asinh,
      onPick: open,
    });
    chartBox.append(chart.element);
    requestAnimationFrame(chart.redraw);
  };
  const asinh = ctx.ui['asinh'] !== false;
  drawChart(asinh);

  const lists = (result: TraceResultView, prefix: string): HTMLElement => {
    const list = (which: 'harmful' | 'helpful', rows: RankedRow[]): HTMLElement =>
      chunkedList({
        testId: `${prefix}-${which}-list`,
        label: `${caseName(result.case)}: ${which}`,
        total: rows.length,
        shown: rows.length,
        step: rows.length,
        emptyText: 'none',
        render: async (from, to) => {
          const slice = rows.slice(from, to);
          await ctx.examples.ensure('pretrain', slice.map((r) => r.index)).catch(() => undefined);
          return slice.map((r, j) => exampleRow({ index: r.index, score: r.score, rank: from + j + 1 }, ctx.examples.get('pretrain', r.index), open));
        },
      });
    return h(
      'section',
      { class: 'case-lists' },
      h('h2', {}, caseName(result.case)),
      h('h3', {}, 'Harmful'),
      list('harmful', result.harmful),
      h('h3', {}, 'Helpful'),
      list('helpful', result.helpful),
    );
  };

  return h(
    'div',
    { class: 'compare' },
    h(
      'header',
      {},
      h('h1', {}, 'Case 1 vs Case 2'),
      h('p', { class: 'sub' }, `${model.configLabel} · test ${model.selection} (${model.testPoints.length} test point${model.testPoints.length === 1 ? '' : 's'}) · ${model.pretrainCount} pretraining examples`),
    ),
    h(
      'section',
      { class: 'stats' },
      h('div', { class: 'stat', 'data-testid': 'spearman', 'data-value': String(model.spearman) }, h('span', { class: 'muted' }, 'Spearman rank correlation ρ = '), rho),
      h(
        'div',
        { class: 'stat', 'data-testid': 'topk-overlap', 'data-harmful': model.overlap.harmful, 'data-helpful': model.overlap.helpful, 'data-k': k },
        h('span', { class: 'muted' }, `Top-${k} overlap: `),
        `harmful ${model.overlap.harmful}/${k} · helpful ${model.overlap.helpful}/${k}`,
      ),
    ),
    h(
      'section',
      { class: 'scatter-section' },
      h('div', { class: 'chart-controls' }, checkbox('asinh scale', asinh, (on) => {
        ctx.setUi('asinh', on);
        drawChart(on);
      })),
      chartBox,
    ),
    h('div', { class: 'columns' }, lists(model.case1, 'case1'), lists(model.case2, 'case2')),
  );
}
