/**
 * One test point (or a set): the top harmful and helpful pretraining examples with their
 * scores (more on request), the distribution of all scores, and the solver diagnostics.
 * A row opens its example's line in the pretraining dataset.
 */
import { CompareCasesCommand, OpenExampleCommand } from '../../src/protocol/webviewProtocol';
import type { RankedRow, TracePanelModel } from '../../src/protocol/webviewProtocol';
import type { PanelContext } from '../app';
import { button } from '../components/toolkit';
import { h } from '../render/dom';
import { caseName } from '../render/format';
import { histogram } from '../render/histogram';
import { rankings } from '../render/ranking';
import { chunkedList, exampleRow } from '../render/rows';
import { diagnosticsSection } from './diagnostics';
import { testPointStrip } from './testPoints';

/** Rows added per "Show more". */
const MORE_STEP = 25;

export function tracePanel(model: TracePanelModel, ctx: PanelContext): HTMLElement {
  const { result } = model;
  const ranks = rankings(result.scores);
  const open = (index: number): void => ctx.host.command(OpenExampleCommand, { role: 'pretrain', index });
  const selectionText =
    model.testPoints.length === 1 ? `test point ${model.testPoints[0]?.id}` : `${model.testPoints.length} test points (scores summed)`;

  const list = (which: 'harmful' | 'helpful', rows: RankedRow[], order: number[]): HTMLElement => {
    const inReport = new Set(rows.map((r) => r.index));
    const sequence = [...rows.map((r) => r.index), ...order.filter((i) => !inReport.has(i))];
    const scoreOf = new Map(rows.map((r) => [r.index, r.score]));
    return chunkedList({
      testId: `${which}-list`,
      label: which === 'harmful' ? 'Harmful pretraining examples' : 'Helpful pretraining examples',
      total: sequence.length,
      shown: Math.max(rows.length, Number(ctx.ui[`${which}Shown`] ?? 0)),
      step: MORE_STEP,
      emptyText: which === 'harmful' ? 'No pretraining example has a positive score.' : 'No pretraining example has a negative score.',
      onShownChange: (n) => ctx.setUi(`${which}Shown`, n),
      render: async (from, to) => {
        const indices = sequence.slice(from, to);
        await ctx.examples.ensure('pretrain', indices).catch(() => undefined);
        return indices.map((index, k) =>
          exampleRow({ index, score: scoreOf.get(index) ?? (result.scores[index] as number), rank: from + k + 1 }, ctx.examples.get('pretrain', index), open),
        );
      },
    });
  };

  return h(
    'div',
    { class: 'trace' },
    h(
      'header',
      {},
      h('h1', {}, model.title.replace(/^MSIF: /, '')),
      h('p', { class: 'sub' }, `${model.configLabel} · ${caseName(result.case)} · ${selectionText} · ${model.pretrainCount} pretraining examples`),
      h('div', { class: 'actions' }, button('Compare Case 1 and Case 2', () => ctx.host.command(CompareCasesCommand, undefined), { testId: 'compare-cases' })),
    ),
    testPointStrip(model.testPoints, ctx),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { class: 'harmful' },
        h('h2', {}, 'Harmful ', h('span', { class: 'hint' }, 'up-weighting raises the test loss (score > 0)')),
        list('harmful', result.harmful, ranks.harmful),
      ),
      h(
        'section',
        { class: 'helpful' },
        h('h2', {}, 'Helpful ', h('span', { class: 'hint' }, 'up-weighting lowers the test loss (score < 0)')),
        list('helpful', result.helpful, ranks.helpful),
      ),
    ),
    h(
      'section',
      { class: 'distribution' },
      h('h2', {}, 'Distribution of all scores'),
      histogram(model.histogram),
      h('p', { class: 'hint' }, `${ranks.harmful.length} harmful, ${ranks.helpful.length} helpful, ${result.scores.length - ranks.harmful.length - ranks.helpful.length} zero.`),
    ),
    diagnosticsSection(model.diagnostics),
  );
}
