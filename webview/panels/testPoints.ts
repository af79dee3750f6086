/** The traced test points, shown above the lists (a few, then a count). */
import type { TestPointView } from '../../src/protocol/webviewProtocol';
import type { PanelContext } from '../app';
import { tag } from '../components/toolkit';
import { h } from '../render/dom';
import { thumbnail } from '../render/thumbnail';

const SHOWN = 12;

export function testPointStrip(points: readonly TestPointView[], ctx: PanelContext): HTMLElement {
  const cards = points.slice(0, SHOWN).map((t) => {
    const view = ctx.examples.get('test', t.index);
    return h(
      'div',
      { class: 'test-card', 'data-index': t.index, title: `${t.id}: loss ${t.loss.toPrecision(4)}` },
      view?.image ? thumbnail(view.image, `test point ${t.id}`, 56) : h('span', { class: 'text-preview' }, view?.text ?? view?.preview ?? ''),
      h(
        'div',
        {},
        h('div', { class: 'id' }, t.id, ' ', t.misclassified ? tag('misclassified') : null),
        h('div', {}, h('span', { class: 'muted' }, 'true '), t.label),
        h('div', {}, h('span', { class: 'muted' }, 'predicted '), t.prediction),
      ),
    );
  });
  return h(
    'section',
    { class: 'test-points', 'aria-label': 'Traced test points' },
    ...cards,
    points.length > SHOWN ? h('div', { class: 'muted more-count' }, `and ${points.length - SHOWN} more`) : null,
  );
}
