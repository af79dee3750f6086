/**
 * Keyboard-accessible lists of examples: each row is focusable (Tab, or ↑/↓ within a
 * list), Enter or Space activates it, click too. Long lists show a first chunk and a
 * "Show more" button, so thousands of rows never render at once.
 */
import type { DatasetRole, ExampleView, TestPointView } from '../../src/protocol/webviewProtocol';
import { button } from '../components/toolkit';
import { append, clear, h } from './dom';
import { formatScore } from './format';
import { thumbnail } from './thumbnail';

/** Makes `row` act like a button inside a list with arrow-key navigation. */
function activatable(row: HTMLElement, activate: () => void): void {
  row.tabIndex = 0;
  row.addEventListener('click', activate);
  row.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (e.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling) as HTMLElement | null;
      next?.focus();
    }
  });
}

/** The picture of an example: its image, or its text. */
function media(view: ExampleView | undefined, role: DatasetRole, index: number): HTMLElement {
  if (view?.image) return h('span', { class: 'media' }, thumbnail(view.image, `${role} example ${view.id}`));
  if (view?.preview && view.text === undefined) return h('span', { class: 'media text-preview' }, view.preview);
  return h('span', { class: 'media placeholder', 'aria-hidden': 'true' }, view ? '' : '…');
}

export interface ExampleRowData {
  readonly index: number;
  readonly score: number;
  readonly rank: number;
}

/** One pretraining example with its score. */
export function exampleRow(d: ExampleRowData, view: ExampleView | undefined, onOpen: (index: number) => void): HTMLElement {
  const id = view?.id ?? `#${d.index}`;
  const caption = view?.text ?? view?.label ?? '';
  const row = h(
    'div',
    {
      class: 'row example-row',
      role: 'listitem',
      'data-testid': 'example-row',
      'data-index': d.index,
      'data-score': String(d.score),
      title: `Open pretraining example ${id}${view?.line !== undefined ? ` (line ${view.line})` : ''}`,
      'aria-label': `Rank ${d.rank}: ${id} ${caption}, score ${formatScore(d.score)}`,
    },
    h('span', { class: 'rank' }, String(d.rank)),
    media(view, 'pretrain', d.index),
    h('span', { class: 'id' }, id),
    h('span', { class: 'caption' }, caption),
    h('span', { class: `score ${d.score > 0 ? 'pos' : d.score < 0 ? 'neg' : ''}` }, formatScore(d.score)),
  );
  activatable(row, () => onOpen(d.index));
  return row;
}

/** One test point with its true and predicted label. */
export function testRow(t: TestPointView, view: ExampleView | undefined, onActivate: (index: number) => void, actionLabel: string): HTMLElement {
  const row = h(
    'div',
    {
      class: `row test-row${t.misclassified ? ' misclassified' : ''}`,
      role: 'listitem',
      'data-testid': 'test-row',
      'data-index': t.index,
      title: `${actionLabel} ${t.id}`,
      'aria-label': `${t.id}: true ${t.label}, predicted ${t.prediction}`,
    },
    media(view, 'test', t.index),
    h('span', { class: 'id' }, t.id),
    h('span', { class: 'label-true' }, h('span', { class: 'muted' }, 'true '), t.label),
    h('span', { class: 'label-pred' }, h('span', { class: 'muted' }, 'predicted '), t.prediction),
    h('span', { class: 'loss' }, `loss ${t.loss.toPrecision(3)}`),
  );
  activatable(row, () => onActivate(t.index));
  return row;
}

export interface ChunkedListOptions {
  readonly testId: string;
  readonly label: string;
  readonly total: number;
  /** Rows shown at first (kept in the webview state). */
  readonly shown: number;
  readonly step: number;
  /** Renders rows [from, to); may fetch what they need first. */
  readonly render: (from: number, to: number) => Promise<HTMLElement[]>;
  readonly onShownChange?: (shown: number) => void;
  readonly emptyText: string;
}

/** A list that renders its rows in chunks behind a "Show more" button. */
export function chunkedList(o: ChunkedListOptions): HTMLElement {
  const list = h('div', { class: 'list', role: 'list', 'data-testid': o.testId, 'aria-label': o.label, 'data-total': o.total });
  const more = h('div', { class: 'more' });
  const box = h('div', { class: 'list-box' }, list, more);
  let shown = 0;
  const grow = async (to: number): Promise<void> => {
    const target = Math.min(o.total, to);
    if (target <= shown) return;
    const from = shown;
    shown = target;
    append(list, ...(await o.render(from, target)));
    o.onShownChange?.(shown);
    refreshMore();
  };
  const refreshMore = (): void => {
    clear(more);
    if (shown < o.total) {
      const n = Math.min(o.step, o.total - shown);
      append(
        more,
        button(`Show ${n} more (${shown} of ${o.total})`, () => void grow(shown + o.step), { testId: `${o.testId}-more` }),
      );
    }
  };
  if (o.total === 0) list.appendChild(h('div', { class: 'empty' }, o.emptyText));
  void grow(Math.max(1, o.shown));
  return box;
}
