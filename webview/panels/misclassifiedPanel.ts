/** The misclassified test points, each with its input (image or text), true and predicted label; a row traces it. */
import { TraceAllMisclassifiedCommand, TraceTestPointCommand } from '../../src/protocol/webviewProtocol';
import type { MisclassifiedPanelModel } from '../../src/protocol/webviewProtocol';
import type { PanelContext } from '../app';
import { button } from '../components/toolkit';
import { h } from '../render/dom';
import { chunkedList, testRow } from '../render/rows';

const FIRST = 60;
const STEP = 100;

export function misclassifiedPanel(model: MisclassifiedPanelModel, ctx: PanelContext): HTMLElement {
  const points = model.testPoints;
  const trace = (index: number): void => ctx.host.command(TraceTestPointCommand, { index });
  const of = model.testCount !== undefined ? ` of ${model.testCount} test points` : '';
  return h(
    'div',
    { class: 'misclassified' },
    h(
      'header',
      {},
      h('h1', {}, 'Misclassified test points'),
      h('p', { class: 'sub' }, `${model.configLabel} · ${points.length} misclassified${of}. Select one (Enter) to trace it to the pretraining data.`),
      points.length > 0
        ? h('div', { class: 'actions' }, button('Trace all of them (sum)', () => ctx.host.command(TraceAllMisclassifiedCommand, undefined), { testId: 'trace-all-misclassified' }))
        : null,
    ),
    chunkedList({
      testId: 'test-list',
      label: 'Misclassified test points',
      total: points.length,
      shown: Math.max(Math.min(FIRST, points.length), Number(ctx.ui['shown'] ?? 0)),
      step: STEP,
      emptyText: 'No test point is misclassified.',
      onShownChange: (n) => ctx.setUi('shown', n),
      render: async (from, to) => {
        const slice = points.slice(from, to);
        await ctx.examples.ensure('test', slice.map((t) => t.index)).catch(() => undefined);
        return slice.map((t) => testRow(t, ctx.examples.get('test', t.index), trace, 'Trace'));
      },
    }),
  );
}
